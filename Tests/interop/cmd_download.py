"""The Python `networkcache-download` command, unchanged.

usage: cmd_download.py -c SLAPOS_CFG (--key KEY | --url URL) [--list] [CRITERIA...]
"""
import sys

from slapos.libnetworkcache import cmd_download

cmd_download(*sys.argv[1:])
