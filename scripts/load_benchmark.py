"""Loads `netcache serve` and nginx (sendfile on) side by side, from wrk in a second
process, on loopback, and prints the figures with their ratios and goals:

  downloads: 200 connections downloading one 256 MiB blob for --seconds: errors (0),
             throughput, the server's peak anonymous memory; nginx serving the same file.
             Goals: >= 0.8x nginx's throughput, RSS under 200 MB.
  shadir:    GETs of one key holding 10 entries for 30 s: requests per second, p50, p99,
             errors (0); nginx serving the same bytes as a static file. Goal: >= 0.5x nginx.
  uploads:   50 concurrent 64 MiB uploads (curl, chunked): throughput, errors (0), and that
             every answer is the SHA-512 of what was sent.
  memory:    the server's peak RSS (VmHWM) after one 1 GiB upload and its download, goal
             under 150 MB; its RssAnon with 200 downloads of a 64 MiB blob stalled (each
             client reads once, then stops), goal under 200 MB.
  scale-out: two servers sharing one S3 bucket (OpenStack Swift's S3 API) and one PostgreSQL
             database, against one server on the embedded default, under the same loads
             (64 downloads of a 64 MiB blob, 50 connections of shadir GETs, 20 concurrent
             16 MiB uploads), each load split over both servers; throughput side by side.
             Needs NETCACHE_BENCH_POSTGRES_URL and NETCACHE_BENCH_S3_ENDPOINT (the script
             starts both engines).

Run through scripts/load-benchmark.sh.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
import time

WORK = "/var/tmp/netcache-load"


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port):
    import socket
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("nothing listens on port %d" % port)


class Sampler(threading.Thread):
    """The largest RssAnon of a process while it runs."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            try:
                with open("/proc/%d/status" % self.pid) as f:
                    for line in f:
                        if line.startswith("RssAnon:"):
                            self.peak = max(self.peak, int(line.split()[1]) * 1024)
            except OSError:
                return
            time.sleep(0.1)


def wrk(url, seconds, connections):
    """wrk's figures: requests/s, bytes/s, p50 and p99 in ms, errors."""
    # A 256 MiB download takes longer than wrk's default 2 s timeout, which would count it
    # as an error.
    out = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "120s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    units = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)

    def latency(percent):
        match = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)" % percent, out)
        if not match:
            return float("nan")
        return float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[match.group(2)]
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors += int(non2xx.group(1)) if non2xx else 0
    return {"rps": float(rate.group(1)), "bps": float(transfer.group(1)) * units[transfer.group(2)],
            "p50": latency(50), "p99": latency(99), "errors": errors}


def wrk_split(urls, seconds, connections):
    """wrk on each URL at once, the connections shared out: the figures summed."""
    results = [None] * len(urls)

    def one(index):
        results[index] = wrk(urls[index], seconds, connections // len(urls))
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(urls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"rps": sum(r["rps"] for r in results), "bps": sum(r["bps"] for r in results),
            "errors": sum(r["errors"] for r in results)}


def start_server(netcache, data, extra=(), env=None):
    port = free_port()
    server = subprocess.Popen([netcache, "serve", "--listen", "127.0.0.1:%d" % port, "--data", data] + list(extra),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env=dict(os.environ, **(env or {})))
    line = server.stdout.readline()
    if not line.startswith("listening on "):
        raise SystemExit("netcache serve %s did not start" % " ".join(extra))
    return server, "http://127.0.0.1:%d" % port


def status_field(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise SystemExit("no %s in /proc/%d/status" % (field, pid))


def memory(netcache):
    """The server's memory after a 1 GiB round trip, and under 200 stalled downloads."""
    import socket
    figures = {}
    server, base = start_server(netcache, os.path.join(WORK, "memory-data"))
    try:
        large = os.path.join(WORK, "large")
        with open(large, "wb") as f:
            for _ in range(1024):
                f.write(os.urandom(1 << 20))
        sha = subprocess.check_output(["curl", "-sS", "-f", "-T", large, "-X", "POST", base + "/shacache"], text=True)
        received = subprocess.check_output(["sh", "-c", "curl -sS -f %s/shacache/%s | sha512sum" % (base, sha)], text=True)
        os.unlink(large)
        if received.split()[0] != sha:
            raise SystemExit("the 1 GiB blob came back different")
        figures["round trip"] = status_field(server.pid, "VmHWM")

        blob = os.path.join(WORK, "stalled-blob")
        with open(blob, "wb") as f:
            f.write(os.urandom(64 << 20))
        sha = subprocess.check_output(["curl", "-sS", "-f", "-T", blob, "-X", "POST", base + "/shacache"], text=True)
        os.unlink(blob)
        port = int(base.rsplit(":", 1)[1])
        request = ("GET /shacache/%s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % sha).encode()
        sockets = []
        try:
            for _ in range(200):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(request)
                sockets.append(s)
            for s in sockets:
                if not s.recv(16 << 10):
                    raise SystemExit("a stalled download did not start")
            # Long enough for every download to fill its socket's buffers and wait.
            time.sleep(3)
            figures["stalled"] = status_field(server.pid, "RssAnon")
        finally:
            for s in sockets:
                s.close()
    finally:
        server.terminate()
        server.wait()
    return figures


def scale_out(netcache):
    """The same loads on one embedded server, then on two servers on the shared backends."""
    database_url = os.environ["NETCACHE_BENCH_POSTGRES_URL"]
    endpoint = os.environ["NETCACHE_BENCH_S3_ENDPOINT"]
    credentials = {"AWS_ACCESS_KEY_ID": "test:tester", "AWS_SECRET_ACCESS_KEY": "testing"}
    name = "bench%d" % os.getpid()
    subprocess.check_call(["psql", "-X", "-q", database_url, "-c", "CREATE DATABASE " + name])
    database = database_url.rsplit("/", 1)[0] + "/" + name
    authority = endpoint.replace("http://", "http://test%3Atester:testing@")
    subprocess.check_call(["curl", "-sS", "-f", "-o", "/dev/null", "-X", "PUT", "--aws-sigv4", "aws:amz:us-east-1:s3",
                           "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", authority + "/" + name])
    shared = ["--store", "s3://%s/blobs" % name, "--s3-endpoint", endpoint, "--directory", database]
    blob = os.path.join(WORK, "scale-blob")
    with open(blob, "wb") as f:
        f.write(os.urandom(64 << 20))
    part = os.urandom(16 << 20)
    with open(os.path.join(WORK, "scale-part"), "wb") as f:
        f.write(part)

    figures = {}
    for setup in ("embedded", "shared"):
        if setup == "embedded":
            servers = [start_server(netcache, os.path.join(WORK, "scale-embedded"))]
        else:
            servers = [start_server(netcache, os.path.join(WORK, "scale-shared-%d" % n), shared, credentials) for n in range(2)]
        bases = [base for _, base in servers]
        try:
            sha = subprocess.check_output(["curl", "-sS", "-f", "--data-binary", "@" + blob, bases[0] + "/shacache"], text=True)
            key = "load:scale"
            for n in range(10):
                subprocess.check_call(["curl", "-sS", "-f", "-o", "/dev/null", "-X", "PUT", "--data-binary",
                                       json.dumps([json.dumps({"sha512": sha, "n": n}), ""]), bases[n % len(bases)] + "/shadir/" + key])
            figures[setup, "downloads"] = wrk_split([b + "/shacache/" + sha for b in bases], 10, 64)
            figures[setup, "shadir"] = wrk_split([b + "/shadir/" + key for b in bases], 15, 50)
            expected = [hashlib.sha512(b"%s%08d" % (setup.encode(), n) + part).hexdigest() for n in range(20)]
            start = time.monotonic()
            uploads = [subprocess.Popen("(printf %s%%08d %d; cat %s/scale-part) | curl -sS -f -X POST -T - %s/shacache"
                                        % (setup, n, WORK, bases[n % len(bases)]), shell=True, stdout=subprocess.PIPE, text=True)
                       for n in range(20)]
            answers = [p.communicate()[0] for p in uploads]
            elapsed = time.monotonic() - start
            figures[setup, "uploads"] = {"bps": 20 * (16 << 20) / elapsed,
                                         "errors": sum(1 for p, a, e in zip(uploads, answers, expected) if p.returncode != 0 or a != e)}
        finally:
            for server, _ in servers:
                server.terminate()
                server.wait()
    return figures


def judged(ratio, sign, bound):
    met = ratio >= bound if sign == ">=" else ratio <= bound
    return "%.2fx (%s %s) %s" % (ratio, sign, bound, "met" if met else "missed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--netcache", required=True)
    parser.add_argument("--seconds", type=int, default=10, help="length of the download load (default: %(default)s)")
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    data, static = os.path.join(WORK, "data"), os.path.join(WORK, "static")
    os.makedirs(static)

    port = free_port()
    server = subprocess.Popen([args.netcache, "serve", "--listen", "127.0.0.1:%d" % port, "--data", data],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    server.stdout.readline()
    base = "http://127.0.0.1:%d" % port
    blob = os.path.join(static, "blob")
    with open(blob, "wb") as f:
        f.write(os.urandom(256 << 20))
    sha = subprocess.check_output(["curl", "-sS", "-f", "-X", "POST", "-H", "Content-Type: application/octet-stream",
                                   "--data-binary", "@" + blob, base + "/shacache"], text=True)
    key = "load:bench"
    for n in range(10):
        info = json.dumps({"sha512": sha, "n": n})
        subprocess.check_call(["curl", "-sS", "-f", "-o", "/dev/null", "-X", "PUT", "--data-binary",
                               json.dumps([info, ""]), base + "/shadir/" + key])
    listing = subprocess.check_output(["curl", "-sS", "-f", base + "/shadir/" + key])
    with open(os.path.join(static, "listing"), "wb") as f:
        f.write(listing)

    nginx_port = free_port()
    conf = os.path.join(WORK, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""user root;
worker_processes auto;
pid %(work)s/nginx.pid;
error_log %(work)s/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
  server { listen 127.0.0.1:%(port)d; root %(static)s; }
}
""" % {"work": WORK, "port": nginx_port, "static": static})
    subprocess.check_call(["nginx", "-c", conf, "-p", WORK])
    try:
        wait_for(nginx_port)
        results = {}
        sampler = Sampler(server.pid)
        sampler.start()
        results["download netcache"] = wrk(base + "/shacache/" + sha, args.seconds, 200)
        sampler.running = False
        sampler.join()
        results["download nginx"] = wrk("http://127.0.0.1:%d/blob" % nginx_port, args.seconds, 200)
        results["shadir netcache"] = wrk(base + "/shadir/" + key, 30, 50)
        results["shadir nginx"] = wrk("http://127.0.0.1:%d/listing" % nginx_port, 30, 50)

        # 50 uploads of 64 MiB at once, each a different blob, streamed by curl.
        part = os.urandom(64 << 20)
        with open(os.path.join(WORK, "part"), "wb") as f:
            f.write(part)
        expected = [hashlib.sha512(b"%08d" % n + part).hexdigest() for n in range(50)]
        start = time.monotonic()
        uploads = [subprocess.Popen("(printf %%08d %d; cat %s/part) | curl -sS -f -X POST -T - -H 'Content-Type: application/octet-stream' %s/shacache"
                                    % (n, WORK, base), shell=True, stdout=subprocess.PIPE, text=True) for n in range(50)]
        answers = [p.communicate()[0] for p in uploads]
        elapsed = time.monotonic() - start
        upload_errors = sum(1 for p, a, e in zip(uploads, answers, expected) if p.returncode != 0 or a != e)
    finally:
        subprocess.call(["nginx", "-c", conf, "-p", WORK, "-s", "stop"])
        server.terminate()
        server.wait()

    print("%-24s %12s %10s %9s %9s %7s" % ("load", "throughput", "req/s", "p50 ms", "p99 ms", "errors"))
    for name, r in results.items():
        print("%-24s %9.2f GB/s %10.0f %9.2f %9.2f %7d" % (name, r["bps"] / (1 << 30), r["rps"], r["p50"], r["p99"], r["errors"]))
    print("%-24s %9.2f GB/s %10s %9s %9s %7d" % ("50 uploads of 64 MiB", 50 * (64 << 20) / elapsed / (1 << 30), "", "", "", upload_errors))
    print()
    print("downloads, netcache / nginx   %s" % judged(results["download netcache"]["bps"] / results["download nginx"]["bps"], ">=", 0.8))
    print("downloads, netcache peak RSS  %.0f MB (< 200)" % (sampler.peak / 1e6))
    print("shadir GETs, netcache / nginx %s" % judged(results["shadir netcache"]["rps"] / results["shadir nginx"]["rps"], ">=", 0.5))
    print("errors: %d" % (sum(r["errors"] for r in results.values()) + upload_errors))

    held = memory(args.netcache)
    print("memory, 1 GiB up and down: peak RSS  %.0f MB (< 150) %s" % (held["round trip"] / 1e6, "met" if held["round trip"] < 150e6 else "missed"))
    print("memory, 200 stalled downloads: RssAnon %.0f MB (< 200) %s" % (held["stalled"] / 1e6, "met" if held["stalled"] < 200e6 else "missed"))

    figures = scale_out(args.netcache)
    print()
    print("%-34s %18s %18s %8s" % ("scale-out", "1 server, embedded", "2 servers, S3+PG", "ratio"))
    for load, unit in (("downloads", "bps"), ("shadir", "rps"), ("uploads", "bps")):
        one, two = figures["embedded", load], figures["shared", load]
        shown = (lambda r: "%.2f GB/s" % (r[unit] / (1 << 30))) if unit == "bps" else (lambda r: "%.0f req/s" % r[unit])
        print("%-34s %18s %18s %7.2fx" % ({"downloads": "64 downloads of a 64 MiB blob", "shadir": "shadir GETs (50 connections)",
                                          "uploads": "20 uploads of 16 MiB at once"}[load], shown(one), shown(two), two[unit] / one[unit]))
    print("scale-out errors: %d" % sum(r["errors"] for r in figures.values()))
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
