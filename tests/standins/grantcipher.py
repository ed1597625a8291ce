#!/usr/bin/env python3
"""The path cipher of a Storj access grant, read or set offline (tests only).

    grantcipher.py show GRANT            prints ENC_NULL, ENC_AESGCM, ... (the
                                         grant's default_path_cipher; 0 is
                                         reported as ENC_AESGCM, as uplink does)
    grantcipher.py set GRANT CIPHER      prints the same grant with
                                         default_path_cipher = CIPHER (every
                                         other byte of the Scope unchanged)

Format (shared reference storj.md 1.1, 1.2): base58check, version 0, of a
protobuf Scope {1 satellite_addr, 2 api_key, 3 encryption_access}; in
EncryptionAccess, field 3 is default_path_cipher (a varint). Only the cipher
is touched: a real "unencrypted object keys" grant also rewrites each store
entry (storj.md 4.4a), which the backend does; the test grants made here have
no store entries. Used by authsvc.py and the Storj integration suites.
"""
import hashlib
import sys

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
CIPHERS = {"ENC_UNSPECIFIED": 0, "ENC_NULL": 1, "ENC_AESGCM": 2, "ENC_SECRETBOX": 3}
NAMES = {v: k for k, v in CIPHERS.items()}


class GrantError(ValueError):
    pass


def b58decode(s):
    n = 0
    for ch in s:
        i = ALPHABET.find(ch)
        if i < 0:
            raise GrantError("not base58")
        n = n * 58 + i
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * (len(s) - len(s.lstrip("1"))) + raw


def b58encode(b):
    n = int.from_bytes(b, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = ALPHABET[r] + out
    return "1" * (len(b) - len(b.lstrip(b"\0"))) + out


def checksum(b):
    return hashlib.sha256(hashlib.sha256(b).digest()).digest()[:4]


def payload(grant):
    raw = b58decode(grant.strip())
    if len(raw) < 5 or checksum(raw[:-4]) != raw[-4:]:
        raise GrantError("bad base58check checksum")
    if raw[0] != 0:
        raise GrantError("version is not 0")
    return raw[1:-4]


def encode(p):
    raw = b"\0" + p
    return b58encode(raw + checksum(raw))


def varint(b, i):
    v, shift = 0, 0
    while True:
        if i >= len(b) or shift > 63:
            raise GrantError("truncated varint")
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def put_varint(v):
    out = bytearray()
    while True:
        c = v & 0x7F
        v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


def fields(b):
    """(field, wire, value, start, end) for each field of a message."""
    i = 0
    while i < len(b):
        start = i
        tag, i = varint(b, i)
        f, w = tag >> 3, tag & 7
        if w == 0:
            v, i = varint(b, i)
        elif w == 1:
            v, i = b[i:i + 8], i + 8
        elif w == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif w == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise GrantError("unknown wire type")
        if i > len(b):
            raise GrantError("truncated field")
        yield f, w, v, start, i


def encryption_access(p):
    ea = b""
    for f, w, v, _, _ in fields(p):
        if f == 3 and w == 2:
            ea = v
    return ea


def path_cipher(grant):
    """The cipher's name; ENC_UNSPECIFIED reads as ENC_AESGCM (storj/common)."""
    c = 0
    for f, w, v, _, _ in fields(encryption_access(payload(grant))):
        if f == 3 and w == 0:
            c = v
    if c == 0:
        c = CIPHERS["ENC_AESGCM"]
    return NAMES.get(c, str(c))


def with_cipher(grant, name):
    c = CIPHERS[name]
    p = payload(grant)
    old = encryption_access(p)
    ea = b"".join(old[s:e] for f, w, _, s, e in fields(old) if not (f == 3 and w == 0))
    ea += bytes([3 << 3]) + put_varint(c)
    scope = b"".join(p[s:e] for f, w, _, s, e in fields(p) if not (f == 3 and w == 2))
    scope += bytes([3 << 3 | 2]) + put_varint(len(ea)) + ea
    return encode(scope)


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "show":
            print(path_cipher(argv[2]))
            return 0
        if len(argv) == 4 and argv[1] == "set" and argv[3] in CIPHERS:
            print(with_cipher(argv[2], argv[3]))
            return 0
    except GrantError as e:
        print(f"grantcipher: {e}", file=sys.stderr)
        return 1
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
