"""models/lenet.net in PyTorch, for tests/install/recipes.sh's netc-check runs.

lenet() is the same net (nn.Sequential indices give the state_dict names
netc uses: 0, 3, 7, 9, 11); lenet_relu() differs in its activations only, so
the same weights load into it and netc-check must report a large error.
"""
import torch.nn as nn


def lenet(act=nn.Sigmoid):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), act(), nn.AvgPool2d(2, stride=2),
        nn.Conv2d(6, 16, 5), act(), nn.AvgPool2d(2, stride=2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), act(),
        nn.Linear(120, 84), act(),
        nn.Linear(84, 10))


def lenet_relu():
    return lenet(nn.ReLU)
