"""Upload (and index) with the real Python client, as buildout and slapgrid call it.

usage: upload.py SLAPOS_CFG FILE [KEY METADATA_JSON]

`NetworkcacheClient(open(SLAPOS_CFG)).upload(open(FILE, 'rb'), KEY, **metadata)`; the
metadata object keeps its member order (it is the order of the info fields). Prints the
SHA-512 the client returns. Every HTTP request the client sends is reported on stderr as
"http: METHOD PATH" (observed in http.client, below the client, which is left as is).
"""
import http.client
import json
import sys

from slapos.libnetworkcache import NetworkcacheClient

_request = http.client.HTTPConnection.request


def traced_request(self, method, url, *args, **kw):
    sys.stderr.write("http: %s %s\n" % (method, url))
    sys.stderr.flush()
    return _request(self, method, url, *args, **kw)


http.client.HTTPConnection.request = traced_request

config, path = sys.argv[1:3]
key = sys.argv[3] if len(sys.argv) > 3 else None
metadata = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
with open(config) as f:
    client = NetworkcacheClient(f)
with open(path, "rb") as f:
    print(client.upload(f, key, **metadata))
