"""Index an entry with the real Python client: `NetworkcacheClient.index(KEY, **info)`.

usage: index.py SLAPOS_CFG KEY INFO_JSON

INFO_JSON is the whole info object (sha512 included), in the order it is to be written.
"""
import json
import sys

from slapos.libnetworkcache import NetworkcacheClient

config, key, info = sys.argv[1:4]
with open(config) as f:
    client = NetworkcacheClient(f)
client.index(key, **json.loads(info))
