"""Times netcache's binary cache against the reference pipelines, side by side, on a real
compiled tree: the Python installation (sys.base_prefix without site-packages) copied
into a software_root, served by a local `netcache serve`.

  publish: netcache publish (chunks only, then chunks + legacy gzip), to a fresh server
           vs tar | zstd -T0 -3 | curl, tar | gzip -1 | curl,
           and the SlapOS way (tarfile gzip + slapos.libnetworkcache upload)
  install: netcache install of the chunked release with nothing to seed from, which makes
           its tree durable itself before it moves the release into place: each file and
           directory fsynced (the default), and with one syncfs instead
           (binary-cache-install-sync = filesystem)
           vs curl | zstd -d | tar -x of the whole zstd archive, without and with a sync
           after it, and the SlapOS way (download + tarfile extraction), without and with
           os.sync()
  upgrade: the same tree built under a longer software_root as version 1, and version 2
           with 3% of its files changed and 4 MB of files added; both published (chunks
           only) from there; then on the node, version 2 installed with nothing to seed
           from, and version 2 installed after version 1 (seeded from it)

Each step runs --runs times (the SlapOS publish once: it takes a minute), against a fresh
server, after a sync, so that none starts with pages that an earlier one left dirty. The
six installs run back to back in each round, so that they meet the same disk conditions,
in an order rotated by one each round, so that none always runs first. Prints medians,
ratios of medians against their goals (met or missed), archive sizes and the netcache
client's peak RSS. The goals:

  publish: netcache / plain pipeline <= 1.3, SlapOS way / netcache >= 20 (chunks only)
           and >= 10 (with legacy gzip)
  install: netcache / (plain pipeline && sync) <= 1.0: both leave a durable tree
             (printed for both ways of netcache's)
           netcache / plain pipeline without sync <= 0.8: an aim, against a pipeline
             that leaves its writeback for later
           (SlapOS way + sync) / netcache >= 2: both leave a durable tree
           SlapOS way without sync (what slapgrid does) / netcache: for information
  upgrade: bytes fetched / version 2's zstd archive <= 0.15
           seeded install / install with nothing to seed <= 0.5, over loopback and over a
             link shaped to --link-rate (100 Mbit/s) in a network namespace
           bytes publishing version 2 added to the store / its zstd archive <= 0.20
           first install (version 2, nothing to seed) / (plain pipeline && sync) <= 1.0
             over the shaped link, and on loopback above

Run through scripts/benchmark.sh.

Installed trees are moved aside, not deleted, until the end, and a run starts at least
six minutes after the previous one deleted them: on ext4 without a journal (this
project's VMs), a file created within one to six minutes of many deletions in its block
group makes the kernel skip past each recently deleted inode (recently_deleted() in
fs/ext4/ialloc.c), which made each install after an rmtree spend seconds in the kernel,
whoever did the extracting.
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import time

SETTLE = 360
from slapos.libnetworkcache import NetworkcacheClient

URL = "https://bench.example/software/release/software.cfg"
MD5 = hashlib.md5(URL.encode()).hexdigest()
UPGRADE_URLS = ["https://bench.example/software/release/software-%d.cfg" % version for version in (1, 2)]
UPGRADE_MD5S = [hashlib.md5(url.encode()).hexdigest() for url in UPGRADE_URLS]


def make_upgrade(source, target):
    """Version 2 of a tree: every 33rd regular file changed in its middle and grown by a
    line, and 4 MB of new files."""
    shutil.copytree(source, target, symlinks=True)
    files = sorted(os.path.join(d, name) for d, _, names in os.walk(target) for name in names
                   if os.path.isfile(os.path.join(d, name)) and not os.path.islink(os.path.join(d, name)))
    for path in files[::33]:
        stat = os.stat(path)
        os.chmod(path, stat.st_mode | 0o200)
        with open(path, "r+b") as f:
            f.seek(stat.st_size // 2)
            f.write(b"version 2 " * 4)
            f.seek(0, 2)
            f.write(b"\n# changed in version 2\n")
        os.chmod(path, stat.st_mode)
    extra = os.path.join(target, "share", "version-2")
    os.makedirs(extra, exist_ok=True)
    for index in range(2):
        with open(os.path.join(extra, "data-%d.bin" % index), "wb") as f:
            f.write(hashlib.shake_256(b"version 2 data %d" % index).digest(2 << 20))


def stored_bytes(data):
    return sum(os.path.getsize(os.path.join(d, name)) for d, _, names in os.walk(os.path.join(data, "shacache")) for name in names)


class Link:
    """A network namespace reached through a veth pair shaped with tbf at `rate` in both
    directions: a node's link to its cache, where loopback would make every transfer free.
    (tc netem is not available on these machines; tbf is.)"""

    NAMESPACE, HOST, PEER = "nc-bench", "nc-bench-a", "nc-bench-b"
    ADDRESS = "10.199.0.2"

    def __init__(self, rate):
        self.close()
        commands = [
            "ip netns add %s" % self.NAMESPACE,
            "ip link add %s type veth peer name %s" % (self.HOST, self.PEER),
            "ip link set %s netns %s" % (self.PEER, self.NAMESPACE),
            "ip addr add 10.199.0.1/24 dev %s" % self.HOST,
            "ip link set %s up" % self.HOST,
            "ip netns exec %s ip addr add %s/24 dev %s" % (self.NAMESPACE, self.ADDRESS, self.PEER),
            "ip netns exec %s ip link set %s up" % (self.NAMESPACE, self.PEER),
            "ip netns exec %s ip link set lo up" % self.NAMESPACE,
            "tc qdisc add dev %s root tbf rate %s burst 256kb latency 50ms" % (self.HOST, rate),
            "ip netns exec %s tc qdisc add dev %s root tbf rate %s burst 256kb latency 50ms" % (self.NAMESPACE, self.PEER, rate),
        ]
        for command in commands:
            subprocess.check_call(command.split())

    def close(self):
        subprocess.call(["ip", "link", "del", self.HOST], stderr=subprocess.DEVNULL)
        subprocess.call(["ip", "netns", "del", self.NAMESPACE], stderr=subprocess.DEVNULL)


class Server:
    started = []

    def __init__(self, netcache, data, link=None):
        argv = [netcache, "serve", "--listen", "127.0.0.1:0", "--data", data]
        if link:
            argv = ["ip", "netns", "exec", Link.NAMESPACE, netcache, "serve", "--listen", Link.ADDRESS + ":0",
                    "--allow-anonymous-uploads", "--data", data]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("listening on "):
            raise SystemExit("netcache serve did not start")
        self.url = line.split()[-1]
        Server.started.append(self)

    def stop(self):
        self.process.terminate()
        self.process.wait()


def timed(argv, shell=False, env=None):
    """Runs a command; returns (seconds, peak RSS in bytes of the command itself)."""
    os.sync()
    start = time.monotonic()
    process = subprocess.Popen(argv, shell=shell, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - start
    if status != 0:
        raise SystemExit("failed: %s" % (argv if shell else " ".join(argv)))
    return elapsed, usage.ru_maxrss * 1024


def timed_verbose(argv):
    """Runs a command; returns (seconds, peak RSS, its stderr)."""
    os.sync()
    start = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - start
    if status != 0:
        raise SystemExit("failed: %s: %s" % (" ".join(argv), stderr))
    return elapsed, usage.ru_maxrss * 1024, stderr


def fetched_bytes(stderr):
    """What `install -v` says it fetched: chunks and index."""
    for line in stderr.splitlines():
        if " chunks fetched (" in line:
            words = line.split("fetched (")[1].split()
            return int(words[0]) + int(words[4].split("-")[0])
    raise SystemExit("install -v said nothing of its chunks: %s" % stderr)


def timed_python(function):
    os.sync()
    start = time.monotonic()
    function()
    return time.monotonic() - start


def judged(ratio, goal):
    """Formats a ratio of medians with its goal ("<= 1.0", ">= 2" or None) and whether it is met."""
    if goal is None:
        return "%.2fx (for information)" % ratio
    sign, bound = goal.split()
    met = ratio <= float(bound) if sign == "<=" else ratio >= float(bound)
    return "%.2fx (%s) %s" % (ratio, goal, "met" if met else "missed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netcache", required=True, help="the netcache binary (a release build)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--link-rate", default="100mbit", help="the shaped link's rate, as tc writes it (default: %(default)s)")
    parser.add_argument("--work", default="/var/tmp/netcache-bench",
                        help="scratch directory, kept between runs so that the tree is copied once (default: %(default)s)")
    args = parser.parse_args()

    work = args.work
    root = os.path.join(work, "slapgrid")
    release = os.path.join(root, MD5)
    moved = release + ".original"
    if os.path.isdir(moved):  # an interrupted run: what is at release may be partial
        shutil.rmtree(release, ignore_errors=True)
        os.rename(moved, release)
    source = sys.base_prefix
    site_packages = os.path.join(source, "lib", "python%d.%d" % sys.version_info[:2], "site-packages")
    if not os.path.isdir(release):
        print("copying %s (without site-packages) into %s" % (source, release), flush=True)
        copying = release + ".copying"
        shutil.rmtree(copying, ignore_errors=True)
        shutil.copytree(source, copying, symlinks=True,
                        ignore=lambda d, names: ["site-packages"] if os.path.join(d, "site-packages") == site_packages else [])
        os.rename(copying, release)
    size = subprocess.check_output(["du", "-sb", release], text=True).split()[0]
    count = subprocess.check_output("find %s | wc -l" % release, shell=True, text=True).strip()
    print("tree: %s bytes, %s entries" % (size, count), flush=True)

    key, cert = os.path.join(work, "signature.key"), os.path.join(work, "signature.cert")
    if not os.path.exists(key):
        subprocess.check_call([args.netcache, "keygen", key, "bench", "--cert-file", cert], stderr=subprocess.DEVNULL)
    with open(cert) as f:
        certificate = f.read()
    config = os.path.join(work, "slapos.cfg")
    # The same, with installs made durable by one syncfs instead of file by file.
    syncfs_config = os.path.join(work, "slapos-syncfs.cfg")

    # The upgrade's builder, under a software_root longer than the node's.
    builder_root = os.path.join(work, "builder-software-root")
    builder_config = os.path.join(work, "builder.cfg")
    builder_trees = [os.path.join(builder_root, md5) for md5 in UPGRADE_MD5S]
    if not os.path.isdir(builder_trees[0]):
        print("copying the tree as version 1 under %s" % builder_root, flush=True)
        os.makedirs(builder_root, exist_ok=True)
        shutil.copytree(release, builder_trees[0] + ".copying", symlinks=True)
        os.rename(builder_trees[0] + ".copying", builder_trees[0])
    if not os.path.isdir(builder_trees[1]):
        print("making version 2", flush=True)
        shutil.rmtree(builder_trees[1] + ".copying", ignore_errors=True)
        make_upgrade(builder_trees[0], builder_trees[1] + ".copying")
        os.rename(builder_trees[1] + ".copying", builder_trees[1])

    def write_config(path, software_root, server, extra=""):
        with open(path, "w") as f:
            f.write("[slapos]\nsoftware_root = %s\nsoftware_min_free_space = 0\n[networkcache]\n" % software_root)
            f.write("signature-private-key-file = %s\n" % key)
            f.write("signature-certificate-list =\n" + "".join("  %s\n" % l for l in certificate.splitlines()))
            for name in ("download-binary-cache-url", "upload-binary-cache-url"):
                f.write("%s = %s/shacache\n" % (name, server.url))
            for name in ("download-binary-dir-url", "upload-binary-dir-url"):
                f.write("%s = %s/shadir\n" % (name, server.url))
            f.write(extra)

    def fresh_server(link=None):
        data = os.path.join(work, "data")
        shutil.rmtree(data, ignore_errors=True)
        server = Server(args.netcache, data, link)
        server.data = data
        write_config(config, root, server)
        write_config(syncfs_config, root, server, "binary-cache-install-sync = filesystem\n")
        write_config(builder_config, builder_root, server, "binary-cache-legacy-format = false\n")
        return server

    results = {}
    rss = {}
    added, predicted, fetched = [], [], {}
    removed = os.path.join(work, "removed")
    stamp = os.path.join(work, "removed.stamp")
    if os.path.isdir(removed):
        shutil.rmtree(removed)
        open(stamp, "w").close()
    if os.path.exists(stamp):
        wait = os.path.getmtime(stamp) + SETTLE - time.time()
        if wait > 0:
            print("waiting %.0f s: the last run deleted its trees less than %d s ago" % (wait, SETTLE), flush=True)
            time.sleep(wait)
    os.mkdir(removed)

    def set_aside(path):
        os.rename(path, os.path.join(removed, str(len(os.listdir(removed)))))

    def record(name, seconds, peak=None):
        results.setdefault(name, []).append(seconds)
        if peak is not None:
            rss[name] = max(rss.get(name, 0), peak)
        print("  %-36s %7.2f s" % (name, seconds), flush=True)

    # The SlapOS way publishes once (a minute), to a server of its own that stays up so
    # that its installs can be interleaved with the others, in the same disk conditions.
    print("publish the SlapOS way (once)", flush=True)
    slapos_data = os.path.join(work, "slapos-data")
    shutil.rmtree(slapos_data, ignore_errors=True)
    slapos_server = Server(args.netcache, slapos_data)
    tarpath = os.path.join(work, MD5 + ".tar.gz")

    def slapos_publish():
        with tarfile.open(tarpath, "w:gz") as tar:
            tar.add(release, arcname=MD5)
        client = NetworkcacheClient({
            "download-cache-url": slapos_server.url + "/shacache", "upload-cache-url": slapos_server.url + "/shacache",
            "download-dir-url": slapos_server.url + "/shadir", "upload-dir-url": slapos_server.url + "/shadir",
            "signature-private-key-file": key}, [certificate])
        with open(tarpath, "rb") as f:
            client.upload(f, MD5, software_url=URL, software_root=root, multiarch="x86_64-linux-gnu", os=["debian", "12", ""])
    record("publish SlapOS way", timed_python(slapos_publish))

    def slapos_install():
        client = NetworkcacheClient({"download-cache-url": slapos_server.url + "/shacache", "download-dir-url": slapos_server.url + "/shadir"}, [certificate])
        entry = next(iter(client.select(MD5)))
        downloaded = os.path.join(work, "downloaded.tar.gz")
        with open(downloaded, "wb") as f:
            shutil.copyfileobj(client.download(entry["sha512"]), f)
        with tarfile.open(downloaded) as tar:
            tar.extractall(path=root)

    def slapos_install_synced():
        slapos_install()
        os.sync()

    def install_steps(server, sha):
        """The installs as (name, function returning (seconds, peak RSS or None))."""
        pipeline = "curl -sS -f %s/shacache/%s | zstd -d -q | tar -C %s -xf -" % (server.url, sha, root)
        return [
            ("install netcache", lambda: timed([args.netcache, "install", "-c", config, "--software-url", URL])),
            ("install netcache, one syncfs", lambda: timed([args.netcache, "install", "-c", syncfs_config, "--software-url", URL])),
            ("install curl|zstd -d|tar -x", lambda: (timed(pipeline, shell=True)[0], None)),
            ("install curl|zstd -d|tar -x && sync", lambda: (timed(pipeline + " && sync", shell=True)[0], None)),
            ("install SlapOS way", lambda: (timed_python(slapos_install), None)),
            ("install SlapOS way + sync", lambda: (timed_python(slapos_install_synced), None)),
        ]

    def upgrade_round(link):
        """Versions 1 and 2 published from the builder; version 2 installed with nothing to
        seed from, then after version 1. Over a shaped link, also the plain pipeline."""
        where = " (%s link)" % args.link_rate if link else ""
        server = fresh_server(link)
        # Nothing seeds but what this round installs.
        shutil.rmtree(os.path.join(root, ".netcache-indexes"), ignore_errors=True)
        record("publish upgrade version 1" + where, *timed([args.netcache, "publish", "-c", builder_config, "--software-url", UPGRADE_URLS[0]]))
        before = stored_bytes(server.data)
        record("publish upgrade version 2" + where, *timed([args.netcache, "publish", "-c", builder_config, "--software-url", UPGRADE_URLS[1]]))
        added.append(stored_bytes(server.data) - before)
        node = [os.path.join(root, md5) for md5 in UPGRADE_MD5S]
        seconds, peak, stderr = timed_verbose([args.netcache, "install", "-v", "-c", config, "--software-url", UPGRADE_URLS[1]])
        record("install version 2, nothing to seed" + where, seconds, peak)
        fetched.setdefault("nothing to seed", []).append(fetched_bytes(stderr))
        set_aside(node[1])
        if link:
            sha = subprocess.check_output(
                "tar -C %s -cf - %s | zstd -T0 -3 -q | curl -sS -f -X POST -H 'Content-Type: application/octet-stream' -T - %s/shacache"
                % (builder_root, UPGRADE_MD5S[1], server.url), shell=True, text=True).strip()
            # The tree as built: the plain pipeline does not relocate, so it goes elsewhere.
            plain_root = os.path.join(work, "plain-root")
            os.makedirs(plain_root, exist_ok=True)
            record("install version 2, curl|zstd -d|tar -x && sync" + where,
                   timed("curl -sS -f %s/shacache/%s | zstd -d -q | tar -C %s -xf - && sync" % (server.url, sha, plain_root), shell=True)[0])
            set_aside(os.path.join(plain_root, UPGRADE_MD5S[1]))
        record("install version 1, nothing to seed" + where, *timed([args.netcache, "install", "-c", config, "--software-url", UPGRADE_URLS[0]]))
        lookup = subprocess.check_output([args.netcache, "lookup", "binary-sr", "-c", config, UPGRADE_URLS[1], "--json"], text=True)
        predicted.append(json.loads(lookup)[0]["fetch_bytes"])
        seconds, peak, stderr = timed_verbose([args.netcache, "install", "-v", "-c", config, "--software-url", UPGRADE_URLS[1]])
        record("install version 2 over version 1" + where, seconds, peak)
        fetched.setdefault("seeded", []).append(fetched_bytes(stderr))
        for path in node:
            set_aside(path)
        server.stop()

    publish = [args.netcache, "publish", "-c", config, "--software-url", URL]
    shaped = Link(args.link_rate)
    try:
        for run in range(args.runs):
            print("run %d" % (run + 1), flush=True)
            for name, argv in (("publish netcache chunks", publish + ["--no-legacy"]), ("publish netcache chunks+gzip", publish)):
                server = fresh_server()
                record(name, *timed(argv))
                server.stop()
            for name, compressor in (("publish tar|zstd|curl", "zstd -T0 -3 -q"), ("publish tar|gzip -1|curl", "gzip -1")):
                server = fresh_server()
                record(name, timed("tar -C %s -cf - %s | %s | curl -sS -f -X POST -H 'Content-Type: application/octet-stream' -T - %s/shacache"
                                   % (root, MD5, compressor, server.url), shell=True)[0])
                server.stop()

            server = fresh_server()
            subprocess.check_call(publish + ["--no-legacy"], stdout=subprocess.DEVNULL)
            # The plain pipeline's whole archive, beside the chunks.
            sha = subprocess.check_output(
                "tar -C %s -cf - %s | zstd -T0 -3 -q | curl -sS -f -X POST -H 'Content-Type: application/octet-stream' -T - %s/shacache"
                % (root, MD5, server.url), shell=True, text=True).strip()
            os.rename(release, moved)
            steps = install_steps(server, sha)
            shift = run % len(steps)  # rotated, so that no install always runs first
            for name, install in steps[shift:] + steps[:shift]:
                record(name, *install())
                set_aside(release)
            os.rename(moved, release)
            server.stop()

            for link in (None, shaped):
                upgrade_round(link)
    finally:
        shaped.close()
        if os.path.isdir(moved):
            if os.path.lexists(release):
                set_aside(release)
            os.rename(moved, release)
        for server in Server.started:
            server.stop()
        shutil.rmtree(removed)
        open(stamp, "w").close()

    server = fresh_server()
    published = subprocess.check_output(publish, text=True)
    server.stop()
    sizes = {line.split()[2]: int(line.split()[3]) for line in published.splitlines() if line.startswith("published:")}
    sizes["zstd -3 (plain pipeline)"] = int(subprocess.check_output(
        "tar -C %s -cf - %s | zstd -T0 -3 -q | wc -c" % (root, MD5), shell=True, text=True))
    upgrade_zstd = int(subprocess.check_output(
        "tar -C %s -cf - %s | zstd -T0 -3 -q | wc -c" % (builder_root, UPGRADE_MD5S[1]), shell=True, text=True))
    sizes["version 2, zstd -3"] = upgrade_zstd

    sizes["gzip -9 (SlapOS tarfile)"] = os.path.getsize(tarpath)
    median = {name: statistics.median(values) for name, values in results.items()}
    print()
    print("%-38s %9s" % ("step (median)", "seconds"))
    for name in results:
        print("%-38s %9.2f" % (name, median[name]))
    print()
    publishes = [
        ("publish, netcache format", "publish netcache chunks", "publish tar|zstd|curl", "publish SlapOS way", ">= 20"),
        ("publish, with legacy gzip", "publish netcache chunks+gzip", "publish tar|gzip -1|curl", "publish SlapOS way", ">= 10"),
    ]
    print("%-38s %-24s %s" % ("", "netcache/plain", "SlapOS/netcache"))
    for label, ours, plain, slapos, least in publishes:
        print("%-38s %-24s %s" % (label, judged(median[ours] / median[plain], "<= 1.3"),
                                  judged(median[slapos] / median[ours], least)))
    print()
    # The plain pipeline and the SlapOS way, each with a sync, leave a durable tree, as
    # netcache does; without, they leave their writeback for after the clock stops.
    ratios = [
        ("install, netcache / (plain && sync)", "install netcache", "install curl|zstd -d|tar -x && sync", "<= 1.0"),
        ("  with one syncfs", "install netcache, one syncfs", "install curl|zstd -d|tar -x && sync", "<= 1.0"),
        ("install, netcache / plain (no sync)", "install netcache", "install curl|zstd -d|tar -x", "<= 0.8"),
        ("install, (SlapOS + sync) / netcache", "install SlapOS way + sync", "install netcache", ">= 2"),
        ("  with one syncfs", "install SlapOS way + sync", "install netcache, one syncfs", ">= 2"),
        ("install, SlapOS (no sync) / netcache", "install SlapOS way", "install netcache", None),
    ]
    for label, numerator, denominator, goal in ratios:
        print("%-38s %s" % (label, judged(median[numerator] / median[denominator], goal)))
    print()
    print("upgrade: version 2 fetched %.1f MB over version 1, %.1f MB with nothing to seed; predicted %.1f MB"
          % (statistics.median(fetched["seeded"]) / 1e6, statistics.median(fetched["nothing to seed"]) / 1e6, statistics.median(predicted) / 1e6))
    link = " (%s link)" % args.link_rate
    upgrades = [
        ("upgrade, fetched / zstd archive", statistics.median(fetched["seeded"]) / upgrade_zstd, "<= 0.15"),
        ("upgrade, seeded / nothing to seed", median["install version 2 over version 1"] / median["install version 2, nothing to seed"], "<= 0.5"),
        ("  over a%s" % link, median["install version 2 over version 1" + link] / median["install version 2, nothing to seed" + link], "<= 0.5"),
        ("upgrade, store growth / zstd archive", statistics.median(added) / upgrade_zstd, "<= 0.2"),
        ("first install / (plain && sync)%s" % link,
         median["install version 2, nothing to seed" + link] / median["install version 2, curl|zstd -d|tar -x && sync" + link], "<= 1.0"),
    ]
    for label, ratio, goal in upgrades:
        print("%-38s %s" % (label, judged(ratio, goal)))
    print()
    for name, peak in sorted(rss.items()):
        print("peak RSS %-26s %6.1f MB (< 64)" % (name, peak / 1e6))
    print()
    for name, value in sizes.items():
        print("archive %-27s %7.1f MB" % (name, value / 1e6))


if __name__ == "__main__":
    main()
