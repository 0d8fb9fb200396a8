"""POST a body the way slapos.libnetworkcache does: http.client, the whole body first.

usage: raw_upload.py URL SIZE [HEADER=VALUE]...

Sends SIZE bytes (chunked when SIZE is "chunked:N") with the given headers, with no
`Expect: 100-continue`, then reads the answer. Prints "STATUS BODY" on stdout; on a network
error, prints "error REPR" and exits 2.
"""
import http.client
import sys
from urllib.parse import urlsplit

url, size = sys.argv[1:3]
headers = dict(argument.split("=", 1) for argument in sys.argv[3:])
parsed = urlsplit(url)
chunked = size.startswith("chunked:")
count = int(size.split(":")[-1])


def blocks():
    block = b"\0" * 65536
    left = count
    while left > 0:
        yield block[:left]
        left -= len(block)


connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
try:
    if chunked:
        connection.request("POST", parsed.path, blocks(), headers, encode_chunked=True)
    else:
        connection.request("POST", parsed.path, b"\0" * count, headers)
    answer = connection.getresponse()
    print(answer.status, answer.read().decode())
except OSError as error:
    print("error", repr(error))
    sys.exit(2)
finally:
    connection.close()
