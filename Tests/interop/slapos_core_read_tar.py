"""Reads an archive with Python's tarfile in an explicit mode, as a legacy node would.

usage: slapos_core_read_tar.py MODE FILE     (MODE: a tarfile mode, e.g. r:gz)

`tarfile.open(FILE, mode=MODE)`, then every member read to the end (file contents
included, so a corrupt stream fails). Prints one JSON object per line, in archive order:
{"name", "type" (file, dir, symlink, hardlink, other), "mode", "mtime" (int), "size",
"linkname", "sha512" (files only)}. Any tarfile error exits non-zero.
"""
import hashlib
import json
import sys
import tarfile

mode, path = sys.argv[1:3]
with tarfile.open(path, mode=mode) as tar:
    for member in tar:
        if member.isreg():
            kind = "file"
        elif member.isdir():
            kind = "dir"
        elif member.issym():
            kind = "symlink"
        elif member.islnk():
            kind = "hardlink"
        else:
            kind = "other"
        digest = None
        if member.isreg():
            digest = hashlib.sha512(tar.extractfile(member).read()).hexdigest()
        print(json.dumps({
            "name": member.name, "type": kind, "mode": member.mode, "mtime": int(member.mtime),
            "size": member.size, "linkname": member.linkname, "sha512": digest,
        }, sort_keys=True))
