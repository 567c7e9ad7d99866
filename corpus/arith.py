"""BINARY_OP (int, float, str), COMPARE_OP (int, float, str), in a numeric kernel and string building."""


def setup(args):
    n = int(args[0]) if args else 40000
    return n


def workload(n):
    acc = 0
    f = 0.0
    s = ""
    buf = ""
    digits = "0123456789abcdef"
    for i in range(n):
        acc = acc + i * 3 - (i >> 1)
        acc &= 0xFFFFFF
        f = f * 0.5 + i / 7.0
        f = f - 0.25
        if i < acc:
            acc += 1
        if f > 1e6:
            f = 0.0
        if i % 97 == 0:
            s = s + "x"
            if s == "xxxx":
                s = ""
        if s != "y" and i >= 3:
            acc -= 1
        label = "n" + digits[i & 15]
        buf = buf + label
        if len(buf) > 40:
            buf = ""
    return acc, round(f, 3), s, buf
