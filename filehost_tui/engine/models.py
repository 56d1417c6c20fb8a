"""Peewee models for every table (DESIGN §4). Bound to one database per process by database.open_database."""

from __future__ import annotations

import time

from peewee import (
    AutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)


def now() -> float:
    return time.time()


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
    path = TextField()
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
    volume = IntegerField(default=0)  # 1..volumes for a slice of the item; 0 = the whole item
    volumes = IntegerField(default=0)
    volume_offset = BigIntegerField(default=0)  # where this volume starts in the item's bytes
    total_bytes = BigIntegerField(default=0)
    uploaded_bytes = BigIntegerField(default=0)
    retry_count = IntegerField(default=0)
    next_attempt_ts = FloatField(default=0.0)
    error_kind = CharField(null=True)
    error_message = TextField(null=True)
    download_url = TextField(null=True)
    file_id = TextField(null=True)
    lease_owner = CharField(null=True)
    lease_expires_ts = FloatField(null=True)
    created_ts = FloatField(default=now)
    started_ts = FloatField(null=True)
    finished_ts = FloatField(null=True)

    class Meta:
        table_name = "file_host_uploads"
        indexes = (
            (("item", "host_name", "volume"), True),
            (("host_name", "status", "next_attempt_ts"), False),
        )


class UploadMetric(BaseModel):
    """One row per finished upload: upserted on upload_id, so a retried success is one row."""

    id = AutoField()
    upload_id = IntegerField(unique=True)
    item_id = IntegerField()
    host_name = CharField()
    status = CharField()  # "success" or "failed"
    bytes = BigIntegerField(default=0)
    duration_s = FloatField(default=0.0)
    bytes_per_s = FloatField(default=0.0)
    retry_count = IntegerField(default=0)
    retryable = BooleanField(default=False)
    error_message = TextField(null=True)
    finished_ts = FloatField(default=now)

    class Meta:
        table_name = "upload_metrics"
        indexes = ((("host_name", "finished_ts"), False), (("finished_ts",), False))


class BandwidthSample(BaseModel):
    id = AutoField()
    host_name = CharField()
    ts = FloatField()
    bytes_per_s = FloatField()

    class Meta:
        table_name = "bandwidth_samples"
        indexes = ((("ts", "host_name"), False),)


ALL_MODELS = [SchemaVersion, Meta, Item, FileHostUpload, UploadMetric, BandwidthSample]
