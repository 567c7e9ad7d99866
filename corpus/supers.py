"""LOAD_SUPER_ATTR (attribute and method forms) in a small class hierarchy, plus method calls through it."""


class Shape:
    sides = 0

    def __init__(self, size):
        self.size = size

    def area(self):
        return self.size

    def describe(self):
        return self.sides


class Square(Shape):
    sides = 4

    def __init__(self, size):
        super().__init__(size)

    def area(self):
        return super().area() * self.size

    def describe(self):
        return super().describe() + super().sides


class Tile(Square):
    def area(self):
        return super().area() + 1


def setup(args):
    n = int(args[0]) if args else 20000
    return n


def workload(n):
    total = 0
    for i in range(n):
        t = Tile(i & 15)
        total += t.area() + t.describe()
    return total
