"""The Python `networkcache-upload` command, unchanged.

usage: cmd_upload.py -c SLAPOS_CFG (--file FILE | --url URL) [--key KEY]
                     [--metadata FILE.json] [KEY=VALUE...]
"""
import sys

from slapos.libnetworkcache import cmd_upload

cmd_upload(*sys.argv[1:])
