"""Installs a release from the binary cache the way slapgrid does before building
(slapos.core 1.26.1, `Software.install`), with slapos.core's own `download_network_cached`.

usage: slapos_core_download.py SLAPOS_CFG SOFTWARE_URL TARPATH [--extract]

Calls `download_network_cached(download-binary-cache-url, download-binary-dir-url,
SOFTWARE_URL, software_root, md5(SOFTWARE_URL), TARPATH, logger,
signature_certificate_list, download_from_binary_cache_url_blacklist)` with slapgrid's
options from SLAPOS_CFG; with --extract and when it returned True, then
`tarfile.open(TARPATH).extractall(path=software_root)`, as Software.install does.

Prints one JSON line: {"downloaded": <what download_network_cached returned>,
"extracted": bool, "fallback_output": <what its fallback_call decorator printed: the
traceback of a swallowed exception, "" when none>}. A failing extraction raises (exit 1).
"""
import contextlib
import hashlib
import io
import json
import sys
import tarfile

from slapos_core_config import check_upstream, logger, read_options
from slapos.grid.networkcache import download_network_cached

check_upstream()
config, url, tarpath = sys.argv[1:4]
extract = "--extract" in sys.argv[4:]
options = read_options(config)
software_root = options["software_root"]
software_url_hash = hashlib.md5(url.encode()).hexdigest()

printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    downloaded = download_network_cached(
        options.get("download-binary-cache-url"),
        options.get("download-binary-dir-url"),
        url, software_root,
        software_url_hash,
        tarpath, logger("slapgrid"),
        options["signature-certificate-list"],
        options["download-from-binary-cache-url-blacklist"])
extracted = False
if extract and downloaded is True:
    # SlapObject.Software.install, verbatim apart from self.
    tar = tarfile.open(tarpath)
    try:
        tar.extractall(path=software_root)
    finally:
        tar.close()
    extracted = True
print(json.dumps({"downloaded": downloaded, "extracted": extracted, "fallback_output": printed.getvalue()}))
