"""What slapos.core 1.26.1 records about this machine in a binary-cache entry.

usage: slapos_core_fingerprint.py SOFTWARE_ROOT

Prints one JSON line, in the layout of `netcache fingerprint --json`:
{"os": list(slapos.grid.distribution.distribution_tuple()),
 "multiarch": slapos.grid.networkcache.multiarch() (runs `gcc -dumpmachine`),
 "libc": list(platform.libc_ver()), "software_root": SOFTWARE_ROOT}
"""
import json
import platform
import sys

from slapos_core_config import check_upstream
from slapos.grid.distribution import distribution_tuple
from slapos.grid.networkcache import multiarch

check_upstream()
print(json.dumps({
    "os": list(distribution_tuple()),
    "multiarch": multiarch(),
    "libc": list(platform.libc_ver()),
    "software_root": sys.argv[1],
}))
