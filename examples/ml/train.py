#!/usr/bin/env python3
"""train.py: trains the small network of examples/ml and writes its
weights to weights.txt, the data file the plugin reads.

The problem is iris-like and synthetic: 150 flowers, 50 per species, each
four measurements (sepal length and width, petal length and width, cm)
drawn from a normal distribution around the species' typical values. The
network is a 2-layer perceptron, 4 inputs -> 8 tanh units -> 3 softmax
outputs, trained by plain stochastic gradient descent on cross-entropy.
Pure Python with a fixed seed, so running it again gives the same file:

    python3 examples/ml/train.py > examples/ml/weights.txt
"""
import math
import random

LABELS = ["setosa", "versicolor", "virginica"]
# Per species: (mean, standard deviation) of each measurement.
SPECIES = [
    ([5.0, 3.4, 1.5, 0.25], [0.35, 0.38, 0.17, 0.10]),
    ([5.9, 2.8, 4.3, 1.30], [0.50, 0.30, 0.47, 0.20]),
    ([6.6, 3.0, 5.6, 2.00], [0.60, 0.30, 0.55, 0.27]),
]
HIDDEN = 8
EPOCHS = 300
RATE = 0.05

rng = random.Random(20261125)


def dataset():
    data = []
    for label, (mean, sd) in enumerate(SPECIES):
        for _ in range(50):
            data.append(([rng.gauss(m, s) for m, s in zip(mean, sd)], label))
    return data


def standardize(data):
    """The inputs' mean and scale (1 / standard deviation), per feature."""
    n = len(data[0][0])
    mean = [sum(x[i] for x, _ in data) / len(data) for i in range(n)]
    var = [sum((x[i] - mean[i]) ** 2 for x, _ in data) / len(data) for i in range(n)]
    return mean, [1 / math.sqrt(v) for v in var]


def forward(w1, b1, w2, b2, x):
    h = [math.tanh(sum(w * xi for w, xi in zip(row, x)) + b) for row, b in zip(w1, b1)]
    z = [sum(w * hi for w, hi in zip(row, h)) + b for row, b in zip(w2, b2)]
    top = max(z)
    e = [math.exp(v - top) for v in z]
    return h, [v / sum(e) for v in e]


def train(data, mean, scale):
    nin, nout = len(mean), len(LABELS)
    w1 = [[rng.gauss(0, 0.5) for _ in range(nin)] for _ in range(HIDDEN)]
    b1 = [0.0] * HIDDEN
    w2 = [[rng.gauss(0, 0.5) for _ in range(HIDDEN)] for _ in range(nout)]
    b2 = [0.0] * nout
    for _ in range(EPOCHS):
        rng.shuffle(data)
        for raw, label in data:
            x = [(v - m) * s for v, m, s in zip(raw, mean, scale)]
            h, p = forward(w1, b1, w2, b2, x)
            dz = [pi - (1 if k == label else 0) for k, pi in enumerate(p)]
            dh = [sum(dz[k] * w2[k][j] for k in range(nout)) * (1 - h[j] ** 2)
                  for j in range(HIDDEN)]
            for k in range(nout):
                for j in range(HIDDEN):
                    w2[k][j] -= RATE * dz[k] * h[j]
                b2[k] -= RATE * dz[k]
            for j in range(HIDDEN):
                for i in range(nin):
                    w1[j][i] -= RATE * dh[j] * x[i]
                b1[j] -= RATE * dh[j]
    return w1, b1, w2, b2


def accuracy(data, mean, scale, net):
    right = 0
    for raw, label in data:
        x = [(v - m) * s for v, m, s in zip(raw, mean, scale)]
        p = forward(*net, x)[1]
        right += p.index(max(p)) == label
    return right / len(data)


def row(values):
    return " ".join("%.6f" % v for v in values)


def main():
    data = dataset()
    mean, scale = standardize(data)
    net = train(data, mean, scale)
    w1, b1, w2, b2 = net
    print("# examples/ml/weights.txt: written by train.py; do not edit.")
    print("# A 2-layer perceptron on iris-like synthetic data: 4 inputs,")
    print("# %d tanh units, 3 softmax outputs. Training accuracy %.3f."
          % (HIDDEN, accuracy(data, mean, scale, net)))
    print("shape 4 %d %d" % (HIDDEN, len(LABELS)))
    print("labels " + " ".join(LABELS))
    print("mean " + row(mean))
    print("scale " + row(scale))
    print("w1 " + "\n   ".join(row(r) for r in w1))
    print("b1 " + row(b1))
    print("w2 " + "\n   ".join(row(r) for r in w2))
    print("b2 " + row(b2))


main()
