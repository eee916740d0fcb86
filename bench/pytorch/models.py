"""PyTorch 1.13 peers of the C# networks in src/Cifar10/Models.

Every builder mirrors its C# counterpart layer for layer (same submodule
names where the languages allow), so that parameter counts match exactly and
throughput benchmarks compare like with like.

    /usr/bin/python3 bench/pytorch/models.py --counts   # "name<TAB>count" per network (tutorial at depths 2, 3, 4)

Import it from a benchmark with `from models import build, NAMES`.
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------- simple
class SimpleNet(nn.Module):
    """Two convolutions and three linear layers (the classic 54% write-up)."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel_size=5)    # 32 -> 28
        self.pool1 = nn.MaxPool2d(2)                    # 28 -> 14
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3)   # 14 -> 12
        self.pool2 = nn.AvgPool2d(2)                    # 12 -> 6
        self.fc1 = nn.Linear(16 * 6 * 6, 128)
        self.fc2 = nn.Linear(128, 32)
        self.fc3 = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.pool1(F.relu(self.conv1(x)))
        x = self.pool2(F.relu(self.conv2(x)))
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


# --------------------------------------------------------------------------- deep
class DeepNet(nn.Module):
    """Eight unpadded 3x3 convolutions, non-affine batch norm, five linear layers (69%)."""

    def __init__(self, num_classes=10, dropout1=0.3, dropout2=0.1):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 20, 3)      # 32 -> 30
        self.bn1 = nn.BatchNorm2d(20, affine=False)
        self.conv2 = nn.Conv2d(20, 24, 3)     # 30 -> 28
        self.conv3 = nn.Conv2d(24, 32, 3)     # 28 -> 26
        self.conv4 = nn.Conv2d(32, 40, 3)     # 26 -> 24
        self.pool = nn.MaxPool2d(2)           # 24 -> 12
        self.conv5 = nn.Conv2d(40, 48, 3)     # 12 -> 10
        self.bn5 = nn.BatchNorm2d(48, affine=False)
        self.conv6 = nn.Conv2d(48, 56, 3)     # 10 -> 8
        self.conv7 = nn.Conv2d(56, 64, 3)     # 8 -> 6
        self.conv8 = nn.Conv2d(64, 72, 3)     # 6 -> 4
        self.fc1 = nn.Linear(72 * 4 * 4, 256)
        self.bn_fc1 = nn.BatchNorm1d(256, affine=False)
        self.drop1 = nn.Dropout(dropout1)
        self.fc2 = nn.Linear(256, 64)
        self.fc3 = nn.Linear(64, 32)
        self.drop2 = nn.Dropout(dropout2)
        self.fc4 = nn.Linear(32, 16)
        self.fc5 = nn.Linear(16, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = self.pool(x)
        x = F.relu(self.bn5(self.conv5(x)))
        x = F.relu(self.conv6(x))
        x = F.relu(self.conv7(x))
        x = F.relu(self.conv8(x))
        x = x.flatten(1)
        x = self.drop1(F.relu(self.bn_fc1(self.fc1(x))))
        x = F.relu(self.fc2(x))
        x = self.drop2(F.relu(self.fc3(x)))
        x = F.relu(self.fc4(x))
        return self.fc5(x)


# --------------------------------------------------------------------------- fast
class DiracConv2d(nn.Module):
    """Stride-1 conv with a channels-last weight (the C# DiracConv2d); bf16 comes from autocast, as in C#."""

    def __init__(self, cin, cout, kernel, padding, bias):
        super().__init__()
        self.padding = padding
        self.weight = nn.Parameter(torch.empty(cout, cin, kernel, kernel))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight.contiguous(memory_format=torch.channels_last), self.bias, padding=self.padding)


class FastBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = DiracConv2d(cin, cout, 3, 1, False)
        self.norm1 = nn.BatchNorm2d(cout, eps=1e-12, momentum=0.4)
        self.conv2 = DiracConv2d(cout, cout, 3, 1, False)
        self.norm2 = nn.BatchNorm2d(cout, eps=1e-12, momentum=0.4)
        self.norm1.weight.requires_grad = False
        self.norm2.weight.requires_grad = False

    def forward(self, x):
        x = F.max_pool2d(self.conv1(x), 2)
        x = F.gelu(self.norm1(x))
        return F.gelu(self.norm2(self.conv2(x)))


class FastNet(nn.Module):
    """airbench94's network (the C# FastNet), channels_last as airbench runs it."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.whiten = DiracConv2d(3, 24, 2, 0, True)
        self.whiten.weight.requires_grad = False
        self.block1 = FastBlock(24, 64)
        self.block2 = FastBlock(64, 256)
        self.block3 = FastBlock(256, 256)
        self.head = nn.Linear(256, num_classes, bias=False)

    def forward(self, x):
        x = F.gelu(self.whiten(x.contiguous(memory_format=torch.channels_last)))
        x = self.block3(self.block2(self.block1(x)))
        x = F.max_pool2d(x, min(x.shape[2:])).flatten(1)  # global: 3x3 at 32 pixels, smaller on downscaled images
        return self.head(x) / 9


# --------------------------------------------------------------------------- wide
def wide(num_classes=10, dropout=0.5):
    """Six convolutions in one flat Sequential: 23 layers, Linear at index 23 (torchinfo '1-23')."""
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, padding=1),      # 1  32x32
        nn.BatchNorm2d(64),                  # 2
        nn.ReLU(),                           # 3
        nn.Conv2d(64, 128, 3, padding=1),    # 4
        nn.BatchNorm2d(128),                 # 5
        nn.ReLU(),                           # 6
        nn.MaxPool2d(2),                     # 7  -> 16x16
        nn.Conv2d(128, 256, 3, padding=1),   # 8
        nn.BatchNorm2d(256),                 # 9
        nn.ReLU(),                           # 10
        nn.Conv2d(256, 256, 3, padding=1),   # 11
        nn.BatchNorm2d(256),                 # 12
        nn.ReLU(),                           # 13
        nn.MaxPool2d(2),                     # 14 -> 8x8
        nn.Conv2d(256, 256, 3),              # 15 -> 6x6
        nn.BatchNorm2d(256),                 # 16
        nn.MaxPool2d(2),                     # 17 -> 3x3
        nn.Conv2d(256, 256, 3),              # 18 -> 1x1
        nn.Flatten(),                        # 19
        nn.Linear(256, 256),                 # 20
        nn.ReLU(),                           # 21
        nn.Dropout(dropout),                 # 22
        nn.Linear(256, num_classes),         # 23
    )


# --------------------------------------------------------------------------- tutorial
TUTORIAL_CHANNELS = (16, 32, 64, 128)


def tutorial(num_classes=10, depth=3):
    """`depth` blocks of conv 3x3 pad 1 + ReLU + max-pool 2, then one linear layer."""
    if not 2 <= depth <= 4:
        raise ValueError(f"tutorial depth must be 2, 3 or 4, got {depth}")
    layers = []
    in_ch = 3
    for out_ch in TUTORIAL_CHANNELS[:depth]:
        layers += [nn.Conv2d(in_ch, out_ch, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        in_ch = out_ch
    side = 32 >> depth
    layers += [nn.Flatten(), nn.Linear(in_ch * side * side, num_classes)]
    return nn.Sequential(*layers)


# --------------------------------------------------------------------------- vgg16 (kuangliu/pytorch-cifar vgg.py)
VGG16_CFG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M']


class VGG(nn.Module):
    """With dropout > 0, a Dropout before the classifier (the C# Vgg16's option; no parameters, same state dict)."""

    def __init__(self, cfg=VGG16_CFG, num_classes=10, dropout=0.0):
        super().__init__()
        self.features = self._make_layers(cfg)
        self.dropout = nn.Dropout(dropout) if dropout > 0 else None
        self.classifier = nn.Linear(512, num_classes)

    def forward(self, x):
        out = self.features(x)
        out = out.flatten(1)
        if self.dropout is not None:
            out = self.dropout(out)
        return self.classifier(out)

    @staticmethod
    def _make_layers(cfg):
        layers = []
        in_ch = 3
        for v in cfg:
            if v == 'M':
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_ch, v, kernel_size=3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                in_ch = v
        layers += [nn.AvgPool2d(kernel_size=1, stride=1)]
        return nn.Sequential(*layers)


# --------------------------------------------------------------------------- ResNet-18 (CIFAR and torchvision layouts)
class BasicBlock(nn.Module):
    """kuangliu-style block: the projection lives in `shortcut` (empty Sequential when identity)."""
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class TvBasicBlock(nn.Module):
    """torchvision-style block: the projection is `downsample` (absent when identity)."""

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or in_planes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def _make_layer(block, in_planes, planes, blocks, stride):
    layers = [block(in_planes, planes, stride)]
    layers += [block(planes, planes, 1) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class ResNet18Cifar(nn.Module):
    """kuangliu/pytorch-cifar resnet.py ResNet18: 3x3 stem, no max-pool, avg-pool 4."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = _make_layer(BasicBlock, 64, 64, 2, 1)
        self.layer2 = _make_layer(BasicBlock, 64, 128, 2, 2)
        self.layer3 = _make_layer(BasicBlock, 128, 256, 2, 2)
        self.layer4 = _make_layer(BasicBlock, 256, 512, 2, 2)
        self.linear = nn.Linear(512, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.avg_pool2d(out, 4)
        out = out.flatten(1)
        return self.linear(out)


class ResNet18ImageNet(nn.Module):
    """torchvision.models.resnet18 layout: 7x7/2 stem, 3x3/2 max-pool, adaptive avg-pool, fc."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = _make_layer(TvBasicBlock, 64, 64, 2, 1)
        self.layer2 = _make_layer(TvBasicBlock, 64, 128, 2, 2)
        self.layer3 = _make_layer(TvBasicBlock, 128, 256, 2, 2)
        self.layer4 = _make_layer(TvBasicBlock, 256, 512, 2, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)
        # torchvision's initialisation (the C# model does the same).
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x).flatten(1)
        return self.fc(x)


# --------------------------------------------------------------------------- registry
BUILDERS = {
    'simple': lambda depth, classes: SimpleNet(classes),
    'fast': lambda depth, classes: FastNet(classes),
    'deep': lambda depth, classes: DeepNet(classes),
    'wide': lambda depth, classes: wide(classes),
    'tutorial': lambda depth, classes: tutorial(classes, depth=depth),
    'vgg16': lambda depth, classes: VGG(num_classes=classes),
    'resnet18': lambda depth, classes: ResNet18Cifar(classes),
    'resnet18-imagenet': lambda depth, classes: ResNet18ImageNet(classes),
}
NAMES = list(BUILDERS)


def build(name, depth=3, num_classes=10):
    """The network called `name` (as in the C# ModelCatalog)."""
    try:
        return BUILDERS[name.lower()](depth, num_classes)
    except KeyError:
        raise ValueError(f"unknown model '{name}'; choose one of: {', '.join(NAMES)}") from None


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--counts', action='store_true', help='print each network and its parameter count')
    args = parser.parse_args()
    if not args.counts:
        parser.print_help()
        return
    for name in NAMES:
        depths = (2, 3, 4) if name == 'tutorial' else (None,)
        for depth in depths:
            label = name if depth is None else f'{name}(depth={depth})'
            model = build(name, depth if depth is not None else 3)
            print(f'{label}\t{count_parameters(model)}')


if __name__ == '__main__':
    main()
