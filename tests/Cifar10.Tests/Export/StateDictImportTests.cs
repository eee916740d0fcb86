using System.IO.Compression;
using Cifar10.Export;
using Cifar10.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Export;

/// <summary>
/// The deep network's state_dict as the toolkit exports it (deep.pt), its ONNX model (deep.onnx), and
/// what Debian's PyTorch makes of it (odd_state_dicts.py): files PyTorch loads that are laid out
/// differently, and files that are not state_dicts. Made once for the tests that use them.
/// </summary>
public sealed class OddStateDictFiles : IDisposable
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("cifar10-odd-pt-").FullName;

    public string Exported => File("deep.pt");

    public OddStateDictFiles()
    {
        torch.manual_seed(3);
        using var model = Trainer.CreateModel(Configs.For("deep", ("precision", "fp32")), 10);
        using (no_grad())
        {
            model.train();
            model.forward(randn(8, 3, 32, 32)).Dispose(); // batch-norm statistics that are not the initial ones
        }
        model.eval();
        ModelExport.SavePyTorch(model, Exported);
        ModelExport.SaveOnnx(model, new CheckpointState { Model = "deep", ClassNames = TinyData.ClassNames }, File("deep.onnx"));
        var script = Path.Combine(Repository.Root, "tests", "Cifar10.Tests", "Export", "odd_state_dicts.py");
        var (code, _, stderr) = Python.Run(script, Exported, Folder);
        if (code != 0) throw new InvalidOperationException($"odd_state_dicts.py failed:\n{stderr}");
    }

    public string File(string name) => Path.Combine(Folder, name);

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}

/// <summary>PyTorch state_dict files in: what PyTorch loads loads, by the original names; what is not a
/// state_dict, or would take more memory than its tensors need, is refused in one line before any tensor
/// data is read.</summary>
[Collection(GlobalTorchState.Name)]
public class StateDictImportTests(OddStateDictFiles files) : IClassFixture<OddStateDictFiles>, IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-import-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static nn.Module<Tensor, Tensor> Deep() => Trainer.CreateModel(Configs.For("deep", ("precision", "fp32"), ("seed", "99")), 10);

    [Theory]
    [InlineData("noncontiguous.pt")]
    [InlineData("shared.pt")]
    [InlineData("bomb.pt")] // only the bias's 10 floats of its 64 MB storage are decompressed
    public void LayoutsPyTorchLoadsLoadWithEveryValueInPlace(string name)
    {
        using var expected = Deep();
        ModelExport.LoadPyTorch(expected, files.Exported);
        using var model = Deep();
        ModelExport.LoadPyTorch(model, files.File(name));
        foreach (var (key, value) in expected.state_dict())
            Assert.True(value.eq(model.state_dict()[key]).all().item<bool>(), $"{name}: {key} differs");
    }

    /// <summary>A network of one linear layer: weight [3, 4] and bias [3].</summary>
    sealed class Tiny : nn.Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Linear fc = nn.Linear(4, 3);
        public Tiny() : base(nameof(Tiny)) => RegisterComponents();
        public override Tensor forward(Tensor x) => fc.forward(x);
    }

    (List<CraftedTensor> Tensors, Dictionary<string, byte[]> Storages) TinyFile()
    {
        using var model = new Tiny();
        return CraftedStateDict.Of(model);
    }

    [Fact]
    public void AZipBombIsRefusedByItsShapeBeforeAnythingIsAllocatedOrDecompressed()
    {
        var (tensors, storages) = TinyFile();
        // The bias claims 4 TiB of floats; its entry holds 64 MB of deflated zeros; the file is a few hundred kilobytes.
        const long Floats = 1L << 40;
        tensors[1] = tensors[1] with { Shape = [Floats], Stride = [1], StorageLength = Floats };
        storages.Remove(tensors[1].Storage);
        var path = Path.Combine(root, "bomb.pt");
        CraftedStateDict.Write(path, tensors, storages, CompressionLevel.Fastest, (_, entry) => CraftedStateDict.WriteZeros(entry, 64 << 20));
        Assert.True(new FileInfo(path).Length < 1 << 20);
        using var model = new Tiny();
        var e = Assert.Throws<CheckpointException>(() => ModelExport.LoadPyTorch(model, path));
        Assert.Contains($"mis-shaped: fc.bias ([{Floats}] in the file, [3] in Tiny)", e.Message);
    }

    [Fact]
    public void ATensorThatReachesFarBeyondItsBytesIsRefusedBeforeItsStorageIsRead()
    {
        var (tensors, storages) = TinyFile();
        // The bias's 3 values 256 M elements apart: a 3 GB storage for 12 bytes, whose entry is never opened.
        tensors[1] = tensors[1] with { Stride = [1L << 28], StorageLength = 1L << 30 };
        storages.Remove(tensors[1].Storage);
        var path = Path.Combine(root, "strided.pt");
        CraftedStateDict.Write(path, tensors, storages, writeStorage: (_, _) => { });
        using var model = new Tiny();
        var e = Assert.Throws<CheckpointException>(() => ModelExport.LoadPyTorch(model, path));
        Assert.Contains($"{path}: its tensors reach over", e.Message);
        Assert.Contains("to hold 60 bytes", e.Message);
    }

    [Fact]
    public void APickleThatDecompressesBeyondItsBoundIsRefused()
    {
        var (tensors, storages) = TinyFile();
        var path = Path.Combine(root, "pickle-bomb.pt");
        CraftedStateDict.Write(path, tensors, storages, CompressionLevel.Fastest, picklePadding: 20 << 20);
        Assert.True(new FileInfo(path).Length < 1 << 20);
        using var model = new Tiny();
        var e = Assert.Throws<CheckpointException>(() => ModelExport.LoadPyTorch(model, path));
        Assert.Contains("archive/data.pkl decompresses to more than 16,777,216 bytes", e.Message);
    }

    [Fact]
    public void AStorageShorterThanItsTensorsIsRefusedAsTruncated()
    {
        var (tensors, storages) = TinyFile();
        storages[tensors[0].Storage] = storages[tensors[0].Storage][..40];
        var path = Path.Combine(root, "short.pt");
        CraftedStateDict.Write(path, tensors, storages);
        using var model = new Tiny();
        var e = Assert.Throws<CheckpointException>(() => ModelExport.LoadPyTorch(model, path));
        Assert.Contains("storage 0 holds fewer bytes than its tensors need (truncated?)", e.Message);
    }

    [Fact]
    public void NamesAndShapesAreCheckedBeforeAnyTensorDataIsRead()
    {
        var (tensors, storages) = TinyFile();
        tensors[0] = tensors[0] with { Shape = [3, 5], Stride = [5, 1], StorageLength = 15 };
        storages.Clear(); // no tensor data at all: only the check can answer
        var path = Path.Combine(root, "misshaped.pt");
        CraftedStateDict.Write(path, tensors, storages, writeStorage: (_, _) => { });
        using var model = new Tiny();
        var e = Assert.Throws<CheckpointException>(() => ModelExport.LoadPyTorch(model, path));
        Assert.Contains("mis-shaped: fc.weight ([3, 5] in the file, [3, 4] in Tiny)", e.Message);
    }

    [Fact]
    public void ACraftedFileWithATransposedViewLoadsTheValuesItDescribes()
    {
        var (tensors, storages) = TinyFile();
        // fc.weight [3, 4] as the transpose of a [4, 3] storage: element (i, j) at j·3 + i.
        tensors[0] = tensors[0] with { Stride = [1, 3] };
        storages[tensors[0].Storage] = Enumerable.Range(0, 12).SelectMany(v => BitConverter.GetBytes((float)v)).ToArray();
        var path = Path.Combine(root, "transposed.pt");
        CraftedStateDict.Write(path, tensors, storages, CompressionLevel.Optimal);
        using var model = new Tiny();
        ModelExport.LoadPyTorch(model, path);
        using var expected = arange(12, dtype: ScalarType.Float32).view(4, 3).t();
        Assert.True(model.state_dict()["fc.weight"].eq(expected).all().item<bool>());
    }
}
