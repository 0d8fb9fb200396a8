"""Download a blob with the real Python client and write its bytes to stdout.

usage: download.py SLAPOS_CFG SHA512

`NetworkcacheClient.download(SHA512)` checks the SHA-512 while reading and raises at
EOF on a mismatch.
"""
import shutil
import sys

from slapos.libnetworkcache import NetworkcacheClient

config, sha512 = sys.argv[1:3]
with open(config) as f:
    client = NetworkcacheClient(f)
shutil.copyfileobj(client.download(sha512), sys.stdout.buffer)
