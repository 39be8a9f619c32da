"""The benchmark's PyTorch peer: the same FCN-8 (VGG16 encoder, fc6/fc7 as
convolutions, score layers, transposed-conv upsampling, src/model/fcn8.ts)
timed the same way as bench/run.ts: median forward and median training step
(forward, cross-entropy with ignore index 255, backward, Adam) after warm-up.

Takes a JSON request on stdin:
  {"device": "cpu", "threads": 2, "warmup": 1, "steps": 3, "l2": 0.001,
   "rows": [{"height": 96, "width": 288, "batch": 2, "fc6": "lite", "widthMultiplier": 1}]}
Gives one JSON line per row on stdout:
  {"height": 96, "width": 288, "fc6": "lite", "detail": "...", "forwardMs": [...], "trainStepMs": [...], "peakMiB": ...}
"""
import json
import sys
import time

import torch
from torch import nn

# [layer name, filters at width 1], as VGG16_BLOCKS in src/model/config.ts.
VGG16_BLOCKS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]]
# (filters, kernel, dilation), as FC6_PAPER / FC6_LITE.
FC6 = {"paper": (4096, 7, 1), "lite": (1024, 3, 3)}
NUM_CLASSES = 2
LEARNING_RATE = 1e-4


def scaled(filters, wm):
    return max(1, round(filters * wm))


class Fcn8(nn.Module):
    def __init__(self, fc6, wm):
        super().__init__()
        blocks, cin = [], 3
        self.pool_channels = []
        for block in VGG16_BLOCKS:
            layers = []
            for filters in block:
                cout = scaled(filters, wm)
                layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
                cin = cout
            layers.append(nn.MaxPool2d(2, 2))
            blocks.append(nn.Sequential(*layers))
            self.pool_channels.append(cin)
        self.blocks = nn.ModuleList(blocks)
        filters, k, d = FC6[fc6]
        f = scaled(filters, wm)
        c = NUM_CLASSES
        self.fc = nn.Sequential(
            nn.Conv2d(cin, f, k, padding=d * (k - 1) // 2, dilation=d), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Conv2d(f, f, 1), nn.ReLU(inplace=True), nn.Dropout(0.5))
        self.score_fr = nn.Conv2d(f, c, 1)
        self.score_pool4 = nn.Conv2d(self.pool_channels[3], c, 1)
        self.score_pool3 = nn.Conv2d(self.pool_channels[2], c, 1)
        # kernel 2s, stride s, padding s/2: output = s * input, as tfjs's 'same' conv2dTranspose.
        self.upscore2 = nn.ConvTranspose2d(c, c, 4, 2, padding=1, bias=False)
        self.upscore_pool4 = nn.ConvTranspose2d(c, c, 4, 2, padding=1, bias=False)
        self.upscore8 = nn.ConvTranspose2d(c, c, 16, 8, padding=4, bias=False)

    def forward(self, x):  # x: [B, 3, H, W]
        pools = []
        for block in self.blocks:
            x = block(x)
            pools.append(x)
        pool3, pool4, pool5 = pools[2], pools[3], pools[4]
        fuse4 = self.upscore2(self.score_fr(self.fc(pool5))) + self.score_pool4(pool4)
        fuse3 = self.upscore_pool4(fuse4) + self.score_pool3(pool3)
        return self.upscore8(fuse3)  # [B, C, H, W]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(row, device, warmup, steps, l2):
    torch.manual_seed(0)
    model = Fcn8(row["fc6"], row.get("widthMultiplier", 1)).to(device)
    # The L2 loss l2 * sum(w^2) has gradient 2 * l2 * w: Adam's weight_decay (on biases too; negligible).
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, weight_decay=2 * l2)
    loss_fn = nn.CrossEntropyLoss(ignore_index=255)
    b, h, w = row["batch"], row["height"], row["width"]
    x = torch.rand(b, 3, h, w, device=device) * 255 - 120
    y = torch.zeros(b, h, w, dtype=torch.long, device=device)
    y[:, h // 2:, :] = 1
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    forward = []
    model.eval()
    with torch.no_grad():
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            model(x)
            sync(device)
            if i >= warmup:
                forward.append((time.perf_counter() - t0) * 1000)

    train = []
    model.train()
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()  # the loss is read back, as trainStep does
        sync(device)
        if i >= warmup:
            train.append((time.perf_counter() - t0) * 1000)
    peak = torch.cuda.max_memory_allocated(device) / 2 ** 20 if device.type == "cuda" else None
    return forward, train, peak


def main():
    request = json.load(sys.stdin)
    device = torch.device(request["device"])
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("pytorch_peer: --peer-device cuda asked for, but torch.cuda.is_available() is False")
    torch.set_num_threads(request["threads"])
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{torch.get_num_threads()} threads"
    detail = f"PyTorch {torch.__version__} on {name}"
    for row in request["rows"]:
        forward, train, peak = measure(row, device, request["warmup"], request["steps"], request["l2"])
        print(json.dumps({"height": row["height"], "width": row["width"], "fc6": row["fc6"], "detail": detail,
                          "forwardMs": forward, "trainStepMs": train, "peakMiB": peak}), flush=True)
        print(f"pytorch_peer: {row['height']}x{row['width']} fc6 {row['fc6']}: forward {sorted(forward)[len(forward) // 2]:.0f} ms, "
              f"step {sorted(train)[len(train) // 2]:.0f} ms", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
