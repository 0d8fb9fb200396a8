"""Publishes a built release the way slapgrid does after a build (slapos.core 1.26.1,
`Software.uploadSoftwareRelease`), with slapos.core's own `upload_network_cached`.

usage: slapos_core_upload.py SLAPOS_CFG SOFTWARE_URL TARPATH

The release is <software_root>/<md5(SOFTWARE_URL)>, software_root being [slapos]
software_root. As uploadSoftwareRelease: `tarfile.open(TARPATH, "w:gz")`,
`tar.add(software_path, arcname=md5)`, then one `upload_network_cached(...)` call with
slapgrid's arguments (the upload-binary-* URLs, the signing key, the certificate list,
the shacache/shadir TLS files). upload_network_cached runs `gcc -dumpmachine`.

Prints one JSON line: {"uploaded": <what upload_network_cached returned: the SHA-512
upload_generic returns on success, False on failure>, "sha512": <of TARPATH>,
"fallback_output": <what its fallback_call decorator printed: the traceback of a swallowed
exception, "" when none>}. Exits 1 when it returned something false, as slapgrid then retries.
"""
import contextlib
import hashlib
import io
import json
import sys
import tarfile

from slapos_core_config import check_upstream, logger, read_options
from slapos.grid.networkcache import upload_network_cached

check_upstream()
config, url, tarpath = sys.argv[1:4]
options = read_options(config)
software_root = options["software_root"]
software_url_hash = hashlib.md5(url.encode()).hexdigest()
software_path = software_root + "/" + software_url_hash

# SlapObject.Software.uploadSoftwareRelease, verbatim apart from self.
tar = tarfile.open(tarpath, "w:gz")
try:
    tar.add(software_path, arcname=software_url_hash)
finally:
    tar.close()

printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    uploaded = upload_network_cached(
        software_root,
        url, software_url_hash,
        options.get("upload-binary-cache-url"),
        options.get("upload-binary-dir-url"),
        tarpath, logger("slapgrid"),
        options.get("signature-private-key-file", options.get("signature_private_key_file")),
        options["signature-certificate-list"],
        options.get("shacache-ca-file"),
        options.get("shacache-cert-file"),
        options.get("shacache-key-file"),
        options.get("shadir-ca-file"),
        options.get("shadir-cert-file"),
        options.get("shadir-key-file"))
with open(tarpath, "rb") as f:
    sha512 = hashlib.sha512(f.read()).hexdigest()
print(json.dumps({"uploaded": uploaded, "sha512": sha512, "fallback_output": printed.getvalue()}))
sys.exit(0 if uploaded else 1)
