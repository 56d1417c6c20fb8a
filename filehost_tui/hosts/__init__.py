"""File hosts: protocols as data (specs/*.toml) run by one interpreter (HostClient).

registry = load_specs(paths.user_hosts_dir)      # built-ins + user overrides; .errors lists problems
client = HostClient(registry.specs["catbox"], config.host("catbox"), credentials)
result = client.upload(path, name=path.name, progress=on_progress)
"""

from filehost_tui.hosts.client import AccountInfo, HostClient, UploadResult, effective_bases
from filehost_tui.hosts.spec import HostSpec, SpecRegistry
from filehost_tui.hosts.spec_loader import load_spec_file, load_specs
from filehost_tui.hosts.spec_reader import SpecError

__all__ = [
    "AccountInfo",
    "HostClient",
    "HostSpec",
    "SpecError",
    "SpecRegistry",
    "UploadResult",
    "effective_bases",
    "load_spec_file",
    "load_specs",
]
