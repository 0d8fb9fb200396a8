"""Drives slapgrid's own Software.install (slapos.core 1.26.1) with the netcache drop-in
enabled through its .pth file, and prints what happened as JSON on the last line of stdout.

Usage: slapgrid_dropin.py SOFTWARE_URL SOFTWARE_ROOT CACHE_URL DIR_URL KEY_FILE CERT_FILE
Environment: NETCACHE_BIN, NETCACHE_SLAPOS_CFG (read by the drop-in).

The build step itself (buildout) is replaced by one that writes a small tree and records
that it ran: the test is about what slapgrid does around it.
"""
import configparser
import importlib
import importlib.resources
import json
import logging
import os
import sys

# slapos.core 1.26.1 calls importlib.resources.files() with a module name, which Python
# accepts from 3.12 on; Debian 12 has 3.11. Give files() the 3.12 behaviour.
_files = importlib.resources.files


def _files_312(anchor):
    if isinstance(anchor, str):
        module = importlib.import_module(anchor)
        if not hasattr(module, "__path__"):
            anchor = module.__spec__.parent
    return _files(anchor)


importlib.resources.files = _files_312

url, root, cache_url, dir_url, key_file, cert_file = sys.argv[1:7]
events = {"patched_by_pth": "netcache_slapgrid" in sys.modules, "built": False}

from slapos.grid import SlapObject  # noqa: E402  (the drop-in patches it on import)

events["install_is_netcache"] = SlapObject.Software.install.__module__ == "netcache_slapgrid"


def fake_buildout(self):
    events["built"] = True
    os.makedirs(os.path.join(self.software_path, "bin"))
    with open(os.path.join(self.software_path, "bin", "program"), "w") as f:
        f.write("#!/bin/sh\necho built\n")
    os.chmod(os.path.join(self.software_path, "bin", "program"), 0o755)


SlapObject.Software._install_from_buildout = fake_buildout

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
with open(cert_file) as f:
    certificate = f.read()
# slapgrid reads the force list from the same slapos.cfg netcache reads.
config = configparser.ConfigParser()
config.read(os.environ["NETCACHE_SLAPOS_CFG"])
forced = config.get("networkcache", "download-from-binary-cache-force-url-list", fallback="").split()
software = SlapObject.Software(
    url=url, software_root=root, buildout="/nonexistent/buildout", logger=logging.getLogger("slapgrid"),
    signature_private_key_file=key_file, signature_certificate_list=[certificate],
    download_binary_cache_url=cache_url, upload_binary_cache_url=cache_url,
    download_binary_dir_url=dir_url, upload_binary_dir_url=dir_url,
    download_from_binary_cache_force_url_list=forced, software_min_free_space=0)
try:
    software.install()
    events["result"] = "ok"
except Exception as error:
    events["result"] = "%s: %s" % (type(error).__name__, error)
print(json.dumps(events, sort_keys=True))
