using Cifar10.Models;
using Cifar10.Runs;
using Cifar10.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Training;

public class CheckpointTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-ckpt-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void SaveThenLoadRestoresWeightsOptimizerAndState()
    {
        torch.manual_seed(3);
        using var model = ModelCatalog.Create("tutorial", new ModelOptions(Depth: 2));
        var config = new TrainConfig { Model = "tutorial", Depth = 2, LearningRate = 0.1 };
        using var optimizer = OptimizerFactory.Create(config, model);
        using (var x = torch.randn(4, 3, 32, 32))
        using (var loss = model.forward(x).sum())
        {
            loss.backward();
            optimizer.Step(); // creates momentum buffers worth saving
        }

        var state = new CheckpointState { Epoch = 5, GlobalStep = 50, BestValAccuracy = 0.5, BestEpoch = 4, Model = "tutorial", Depth = 2, ClassNames = TinyData.ClassNames };
        var folder = Path.Combine(root, "last");
        Checkpoint.Save(folder, model, optimizer, state);
        Checkpoint.Save(folder, model, optimizer, state); // overwriting swaps in place
        Assert.False(Directory.Exists(folder + ".writing"));
        Assert.False(Directory.Exists(folder + ".previous"));

        var (loaded, loadedState) = Checkpoint.LoadModel(folder, CPU);
        using var _ = loaded;
        Assert.Equal(state with { ClassNames = [], Mean = [], Std = [] }, loadedState with { ClassNames = [], Mean = [], Std = [] });
        Assert.Equal(state.ClassNames, loadedState.ClassNames);
        foreach (var ((name, a), (_, b)) in model.named_parameters().Zip(loaded.named_parameters()))
            Assert.True(a.allclose(b, rtol: 0, atol: 0), $"{name} differs");

        using var other = OptimizerFactory.Create(config, loaded);
        Checkpoint.LoadOptimizer(other, folder); // throws when the state does not fit
    }

    [Fact]
    public void LocateAcceptsARunFolderAndPrefersBest()
    {
        void Fake(string name)
        {
            Directory.CreateDirectory(Path.Combine(root, "run", name));
            File.WriteAllText(Path.Combine(root, "run", name, Checkpoint.StateFile), "{}");
            File.WriteAllText(Path.Combine(root, "run", name, Checkpoint.ModelFile), "");
        }
        Fake("last");
        Assert.EndsWith("last", Checkpoint.Locate(Path.Combine(root, "run")));
        Fake("best");
        Assert.EndsWith("best", Checkpoint.Locate(Path.Combine(root, "run")));
    }

    [Fact]
    public void MissingCheckpointIsAOneLineErrorNamingThePath()
    {
        var missing = Path.Combine(root, "nope");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Locate(missing));
        Assert.Contains(missing, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }
}
