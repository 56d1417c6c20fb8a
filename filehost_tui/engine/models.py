"""Peewee models for every table. Bound to one database per process by database.open_database."""

from __future__ import annotations

import os
import time

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    PostgresqlDatabase,
    TextField,
)

from filehost_tui.file_names import diagnostic_text, has_undecodable


def now() -> float:
    return time.time()


# An undecodable path in PostgreSQL's text column: this prefix, then its bytes in hex. A stored path
# is absolute (it starts with "/"), so nothing else starts so.
HEX_PATH = "bytes:"


class PathField(TextField):
    """A file system path kept byte for byte: one that is not valid UTF-8 (which SQLite text
    cannot hold) is stored as a BLOB of its bytes, and read back as the same str. PostgreSQL's
    text column takes no BLOB: there it is HEX_PATH and the bytes in hex."""

    def db_value(self, value: object) -> object:
        if isinstance(value, str) and has_undecodable(value):
            if isinstance(self.model._meta.database, PostgresqlDatabase):
                return HEX_PATH + os.fsencode(value).hex()
            return os.fsencode(value)
        return super().db_value(value)

    def python_value(self, value: object) -> object:
        if isinstance(value, bytes):
            return os.fsdecode(value)
        if isinstance(value, str) and value.startswith(HEX_PATH):
            return os.fsdecode(bytes.fromhex(value[len(HEX_PATH) :]))
        return super().python_value(value)


class DiagnosticTextField(TextField):
    """A message that may quote a file name with undecodable bytes: they are stored as \\xNN."""

    def db_value(self, value: object) -> object:
        return super().db_value(diagnostic_text(value) if isinstance(value, str) else value)


class BaseModel(Model):
    class Meta:
        database = None
        legacy_table_names = False


class SchemaVersion(BaseModel):
    version = IntegerField()

    class Meta:
        table_name = "schema_version"


class Meta(BaseModel):
    """Small key/value facts about the database's use (e.g. when the current session started)."""

    key = CharField(primary_key=True)
    value = TextField()

    class Meta:
        table_name = "meta"


class Item(BaseModel):
    id = AutoField()
    path = PathField()
    name = TextField()
    kind = CharField()  # "file" or "folder"
    total_size = BigIntegerField()
    file_count = IntegerField()
    fingerprint = CharField()
    created_ts = FloatField(default=now)

    class Meta:
        table_name = "items"


class FileHostUpload(BaseModel):
    id = AutoField()
    item = ForeignKeyField(Item, backref="uploads", on_delete="RESTRICT")
    host_name = CharField()
    status = CharField(default="pending", index=True)
    zip_path = TextField(null=True)
    total_bytes = BigIntegerField(default=0)
    uploaded_bytes = BigIntegerField(default=0)
    retry_count = IntegerField(default=0)
    next_attempt_ts = FloatField(default=0.0)
    error_kind = CharField(null=True)
    error_message = DiagnosticTextField(null=True)
    download_url = TextField(null=True)
    file_id = TextField(null=True)
    lease_owner = CharField(null=True)
    lease_expires_ts = FloatField(null=True)
    created_ts = FloatField(default=now)
    started_ts = FloatField(null=True)
    finished_ts = FloatField(null=True)
    # set by a trigger on every write (see scale_schema); DEFAULT 0 as the migration adds it
    change_seq = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    # 1..volumes for a slice of the item; 0 = the whole item (last: migrations add columns at the end)
    volume = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    volumes = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    # where this volume starts in the item's bytes
    volume_offset = BigIntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    # the runner that may claim it, by name; "" = any runner (added --anywhere, or written before
    # runners had names). See docs/architecture.md, 'Runners'.
    runner = CharField(default="", constraints=[SQL("DEFAULT ''")])
    # the runner that claimed it last: holds it while uploading, finished it after
    ran_by = CharField(default="", constraints=[SQL("DEFAULT ''")])

    class Meta:
        table_name = "file_host_uploads"
        indexes = (
            (("item", "host_name", "volume"), True),
            (("host_name", "status", "next_attempt_ts"), False),
            # a runner's claim: its own and anyone's due rows of one host, oldest first
            (("host_name", "status", "runner", "next_attempt_ts"), False),
        )


class UploadMetric(BaseModel):
    """One row per finished upload: upserted on upload_id, so a retried success is one row.

    Columns and indexes keep the names scripts written for the original upload-metrics table
    expect (item_id is that table's gallery id); migrations.py carries older layouts forward.
    end_ts is indexed too: stats select a period by when uploads finished.
    """

    id = AutoField()
    upload_id = IntegerField(unique=True)
    host_name = CharField(index=True)
    item_id = IntegerField(index=True)
    status = CharField(index=True)  # "success" or "failed"
    start_ts = FloatField(index=True)
    end_ts = FloatField(index=True)
    duration_seconds = FloatField(default=0.0)
    bytes_uploaded = BigIntegerField(default=0)
    total_bytes = BigIntegerField(default=0)
    speed_kbps = FloatField(default=0.0)  # KiB/s
    error_message = DiagnosticTextField(null=True)
    retry_count = IntegerField(default=0)
    is_retryable = BooleanField(default=False)
    recorded_ts = FloatField(default=now)

    class Meta:
        table_name = "upload_metrics"


class BandwidthSample(BaseModel):
    id = AutoField()
    host_name = CharField()
    ts = FloatField()
    bytes_per_s = FloatField()

    class Meta:
        table_name = "bandwidth_samples"
        indexes = ((("ts", "host_name"), False),)


class Runner(BaseModel):
    """One runner by name: written when it starts and stops, and on its heartbeat (the engine's
    tick, every few seconds), so every face on the database can show every runner."""

    name = CharField(primary_key=True)
    machine = CharField()  # the host name of the machine it runs on
    pid = IntegerField()
    started_ts = FloatField()
    heartbeat_ts = FloatField()
    state = CharField()  # "running" or "stopped"; a running one whose heartbeat is old is stale
    active = IntegerField(default=0)  # transfers running at the last heartbeat
    bytes_per_s = FloatField(default=0.0)

    class Meta:
        table_name = "runners"


ALL_MODELS = [SchemaVersion, Meta, Item, FileHostUpload, UploadMetric, BandwidthSample, Runner]
