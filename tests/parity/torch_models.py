"""PyTorch twins of the netc models in models/*.net.

Each entry of MODELS maps a model file name (models/<name>.net) to a function returning
(torch module, input shape). The three seed models are the nn.Sequential code of the seed
study notes, verbatim; the others come from torchvision (random init, no downloads) or,
for the U-Nets, from the UNet class below, whose module names match models/unet.net and
models/unet_bilinear.net.

Only Debian's python3-torch / python3-torchvision are needed (run with /usr/bin/python3).
"""

import torch
from torch import nn
import torch.nn.functional as F
import torchvision


# --- seed study notes (d2l): LeNet, AlexNet, VGG-11 ------------------------------------

def lenet():
    net = nn.Sequential(nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
                        nn.AvgPool2d(kernel_size=2, stride=2),
                        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
                        nn.AvgPool2d(kernel_size=2, stride=2),
                        nn.Flatten(),
                        nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
                        nn.Linear(120, 84), nn.Sigmoid(),
                        nn.Linear(84, 10))
    return net, (1, 1, 28, 28)


def alexnet():
    net = nn.Sequential(
        nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Flatten(),
        nn.Linear(6400, 4096), nn.ReLU(),
        nn.Dropout(p=0.5),  # 全连接层防止过拟合
        nn.Linear(4096, 4096), nn.ReLU(),
        nn.Dropout(p=0.5),
        nn.Linear(4096, 10))
    return net, (1, 1, 224, 224)


def vgg_block(num_convs, in_channels, out_channels):
    layers = []
    for _ in range(num_convs):
        layers.append(nn.Conv2d(in_channels, out_channels,
                                kernel_size=3, padding=1))
        layers.append(nn.ReLU())
        in_channels = out_channels
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


conv_arch = ((1, 64), (1, 128), (2, 256), (2, 512), (2, 512))


def vgg(conv_arch):
    conv_blks = []
    in_channels = 1
    for (num_convs, out_channels) in conv_arch:
        conv_blks.append(vgg_block(num_convs, in_channels, out_channels))
        in_channels = out_channels

    return nn.Sequential(
        *conv_blks, nn.Flatten(),
        nn.Linear(out_channels * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 10))


def vgg11():
    return vgg(conv_arch), (1, 1, 224, 224)


# --- small U-Net (models/unet.net) -------------------------------------------------------

class DoubleConv(nn.Sequential):
    """(conv3x3 without bias + BN + ReLU) x 2, numbered 0..5 like netc's double_conv."""

    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv = DoubleConv(cin, cout)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x):
        skip = self.conv(x)
        return self.pool(skip), skip


class Up(nn.Module):
    def __init__(self, cin, cout, bilinear=False):
        super().__init__()
        if bilinear:   # no weights: x keeps its cin channels
            self.up = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)
            self.conv = DoubleConv(cin + cout, cout)
        else:
            self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
            self.conv = DoubleConv(2 * cout, cout)      # input: cat([skip, up(x)])

    def forward(self, x, skip):
        x = self.up(x)
        dy = skip.shape[2] - x.shape[2]
        dx = skip.shape[3] - x.shape[3]
        x = F.pad(x, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([skip, x], dim=1))


class UNet(nn.Module):
    def __init__(self, in_channels=1, classes=2, base=16, bilinear=False):
        super().__init__()
        self.down1 = Down(in_channels, base)
        self.down2 = Down(base, base * 2)
        self.bottleneck = DoubleConv(base * 2, base * 4)
        self.up2 = Up(base * 4, base * 2, bilinear)
        self.up1 = Up(base * 2, base, bilinear)
        self.head = nn.Conv2d(base, classes, 1)

    def forward(self, x):
        h, s1 = self.down1(x)
        h, s2 = self.down2(h)
        h = self.bottleneck(h)
        h = self.up2(h, s2)
        h = self.up1(h, s1)
        return self.head(h)


def unet():
    return UNet(), (1, 1, 64, 64)


def unet_bilinear():
    return UNet(bilinear=True), (1, 1, 64, 64)


# --- keyword spotting on raw audio (models/kws_m5.net) -------------------------------------

class M5(nn.Module):
    """Dai et al.'s M5 as in torchaudio's speech-commands tutorial: conv1d stages, a mean over
    time, a linear layer on [N, 1, C], log-softmax over the classes."""

    def __init__(self, n_input=1, n_output=35, stride=16, n_channel=32):
        super().__init__()
        widths = [n_channel, n_channel, 2 * n_channel, 2 * n_channel]
        cin = n_input
        for i, w in enumerate(widths, 1):
            k, s = (80, stride) if i == 1 else (3, 1)
            setattr(self, 'conv%d' % i, nn.Conv1d(cin, w, kernel_size=k, stride=s))
            setattr(self, 'bn%d' % i, nn.BatchNorm1d(w))
            setattr(self, 'pool%d' % i, nn.MaxPool1d(4))
            cin = w
        self.fc1 = nn.Linear(cin, n_output)

    def forward(self, x):
        # Spelled out, not a loop over getattr(self, 'conv%d' % i): TorchScript cannot script
        # that, and tests/bench/bench.py then traced the model, where x.shape[-1] is a Tensor
        # that avg_pool1d refuses as kernel_size (make bench crashed on kws_m5). Scripted,
        # x.shape[-1] is an int; traced, int() makes it one.
        x = self.pool1(F.relu(self.bn1(self.conv1(x))))
        x = self.pool2(F.relu(self.bn2(self.conv2(x))))
        x = self.pool3(F.relu(self.bn3(self.conv3(x))))
        x = self.pool4(F.relu(self.bn4(self.conv4(x))))
        x = F.avg_pool1d(x, int(x.shape[-1]))   # int(): a traced shape is a Tensor
        x = x.permute(0, 2, 1)
        return F.log_softmax(self.fc1(x), dim=2)


def kws_m5():
    return M5(), (1, 1, 8000)


# --- torchvision -------------------------------------------------------------------------

def _tv(name, **kw):
    def build():
        return getattr(torchvision.models, name)(weights=None, **kw), (1, 3, 224, 224)
    build.__name__ = name
    return build


MODELS = {
    'lenet': lenet,
    'alexnet': alexnet,
    'vgg11': vgg11,
    'vgg16': _tv('vgg16'),
    'vgg16_bn': _tv('vgg16_bn'),
    'resnet18': _tv('resnet18'),
    'resnet50': _tv('resnet50'),
    'resnet152': _tv('resnet152'),
    'mobilenet_v2': _tv('mobilenet_v2'),
    'shufflenet_v2_x1_0': _tv('shufflenet_v2_x1_0'),
    'mobilenet_v3_small': _tv('mobilenet_v3_small'),
    'mobilenet_v3_large': _tv('mobilenet_v3_large'),
    'efficientnet_b0': _tv('efficientnet_b0'),
    'regnet_y_400mf': _tv('regnet_y_400mf'),
    'convnext_tiny': _tv('convnext_tiny'),
    'vit_b_16': _tv('vit_b_16'),
    'swin_t': _tv('swin_t'),
    'googlenet': _tv('googlenet', aux_logits=False, transform_input=False, init_weights=False),
    'unet': unet,
    'unet_bilinear': unet_bilinear,
    'kws_m5': kws_m5,
}

# Extra runs of a model file with -D overrides: name -> (model file, defines, builder).
# unet at 2x1x66x66: odd sizes after pooling exercise the pad step; batch 2 the N factor.
VARIANTS = {
    'unet_odd_b2': ('unet', {'batch': 2, 'size': 66}, lambda: (UNet(), (2, 1, 66, 66))),
    'unet_bilinear_odd': ('unet_bilinear', {'size': 66}, lambda: (UNet(bilinear=True), (1, 1, 66, 66))),
}

# The seed models whose per-layer tables are transcribed in tests/golden/torch/<name>.txt.
SEED_MODELS = ('lenet', 'alexnet', 'vgg11')
