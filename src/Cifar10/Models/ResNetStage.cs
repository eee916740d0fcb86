using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Cifar10.Models;

/// <summary>The stage builder both ResNet-18 variants share.</summary>
internal static class ResNetStage
{
    /// <summary>
    /// A ResNet stage: <paramref name="blocks"/> residual blocks of <paramref name="planes"/> channels, the first
    /// changing stride and width (torchvision's and kuangliu's _make_layer). Advances <paramref name="inPlanes"/>.
    /// </summary>
    public static Sequential Build(ref long inPlanes, long planes, int blocks, long stride,
        Func<long, long, long, Module<Tensor, Tensor>> block)
    {
        var stage = new List<Module<Tensor, Tensor>> { block(inPlanes, planes, stride) };
        inPlanes = planes;
        for (var i = 1; i < blocks; i++)
            stage.Add(block(inPlanes, planes, 1));
        return Sequential(stage.ToArray());
    }
}
