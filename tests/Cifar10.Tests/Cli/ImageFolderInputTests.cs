using Cifar10.Cli;
using Cifar10.Data;
using Cifar10.Export;
using Cifar10.Tests.Data;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Cli;

/// <summary>Image folders as `eval --data` meets them: a symbolic link loop is refused, not read as more
/// (mislabelled) images; a cache whose labels were rewritten is decoded again, not trusted.</summary>
[Collection(GlobalTorchState.Name)]
public class ImageFolderInputTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-folder-input-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>Three classes of four images in train/ and test/, and a state_dict of the simple network for them.</summary>
    (string Data, string Weights) PetsAndWeights()
    {
        var data = Path.Combine(root, "pets");
        ImageFolders.Write(data, perClass: 4);
        TorchSharp.torch.manual_seed(5);
        using var model = Trainer.CreateModel(Configs.For("simple"), classCount: 3);
        var weights = Path.Combine(root, "simple.pt");
        ModelExport.SavePyTorch(model, weights);
        return (data, weights);
    }

    static (int Code, string Out, string Err) Eval(string data, string weights, string output) =>
        Cli.Run("eval", "--weights", weights, "--model", "simple", "--data", data, "--threads", "1", "--out", output);

    [Fact]
    public void ASymbolicLinkLoopIsRefusedInOneLine()
    {
        var (data, weights) = PetsAndWeights();
        var loop = Path.Combine(data, "test", "cats", "loop");
        Directory.CreateSymbolicLink(loop, "..");
        var (code, output, err) = Eval(data, weights, Path.Combine(root, "eval"));
        Assert.True(code == Program.Failure, output);
        Assert.Equal($"error: {loop} leads back to {Path.Combine(data, "test")} (a symbolic link loop); remove the link", err.Trim());
    }

    [Fact]
    public void ACacheWithRewrittenLabelsIsDecodedAgain()
    {
        var (data, weights) = PetsAndWeights();
        var first = Eval(data, weights, Path.Combine(root, "first"));
        Assert.True(first.Code == 0, first.Err);
        var bin = Directory.GetFiles(Path.Combine(data, ImageFolder.CacheFolder), "*.bin").Single();
        var bytes = File.ReadAllBytes(bin);
        Array.Clear(bytes, 0, 4 * 24); // every label, training and test, rewritten to class 0
        File.WriteAllBytes(bin, bytes);

        var second = Eval(data, weights, Path.Combine(root, "second"));
        Assert.True(second.Code == 0, second.Err);
        Assert.Contains("do not match their checksum; decoding them again", second.Out + second.Err);
        Assert.Equal(File.ReadAllText(Path.Combine(root, "first", "confusion_matrix.csv")),
                     File.ReadAllText(Path.Combine(root, "second", "confusion_matrix.csv")));
    }
}
