"""Shared by the slapos_core_*.py scripts: reads slapos.cfg as slapgrid does, and makes
sure the binary-cache functions about to be called are slapos.core's own.

slapgrid (slapos/grid/slapgrid.py, 1.26.1) merges [slapos] and [networkcache] into one
options dict (`merged_options`), splits the blacklists into lists of non-empty lines, and
cuts `signature-certificate-list` at each BEGIN CERTIFICATE marker
(`create_slapgrid_object`). This module does the same without importing slapgrid (that
would import slapos.grid.SlapObject, which the netcache drop-in may patch when it is
enabled in the venv): only slapos.grid.networkcache and slapos.grid.distribution are used,
and they are checked to be unmodified.
"""
import configparser
import importlib.metadata
import logging
import sys

import slapos.grid.distribution
import slapos.grid.networkcache

CERT_MARKER = "-----BEGIN CERTIFICATE-----"


def check_upstream():
    """Fails unless the functions come from slapos.core 1.26.1, as published on PyPI."""
    version = importlib.metadata.version("slapos.core")
    assert version == "1.26.1", version
    assert importlib.metadata.version("slapos.libnetworkcache") == "0.30"
    module = slapos.grid.networkcache
    assert module.LIBNETWORKCACHE_ENABLED, "slapos.libnetworkcache is not importable"
    for name in ("download_network_cached", "upload_network_cached", "multiarch"):
        function = getattr(module, name)
        assert function.__module__ == "slapos.grid.networkcache", (name, function.__module__)
    assert module.distribution_tuple is slapos.grid.distribution.distribution_tuple
    assert "/site-packages/slapos/grid/" in module.__file__, module.__file__


def read_options(path):
    """slapgrid's merged options for slapos.cfg at `path`."""
    parser = configparser.ConfigParser()
    with open(path) as f:
        parser.read_file(f)
    options = dict(parser.items("slapos"))
    if parser.has_section("networkcache"):
        options.update(dict(parser.items("networkcache")))
    if options.get("binary-cache-url-blacklist") and not options.get("download-from-binary-cache-url-blacklist"):
        options["download-from-binary-cache-url-blacklist"] = options["binary-cache-url-blacklist"]
    for name in ("download-from-binary-cache-url-blacklist", "upload-to-binary-cache-url-blacklist",
                 "download-from-binary-cache-force-url-list"):
        options[name] = [url.strip() for url in options.get(name, "").split("\n") if url]
    certificates = None
    if "signature-certificate-list" in options:
        certificates = [CERT_MARKER + "\n" + q.strip()
                        for q in options["signature-certificate-list"].split(CERT_MARKER) if q.strip()]
    options["signature-certificate-list"] = certificates
    return options


def logger(name):
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    return logging.getLogger(name)
