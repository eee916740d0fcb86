using TorchSharp;
Console.WriteLine(torch.ones(3).sum().item<float>());
Console.WriteLine(torch.__version__);
