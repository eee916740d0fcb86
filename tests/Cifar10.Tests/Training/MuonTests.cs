using Cifar10.Models;
using Cifar10.Training;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace Cifar10.Tests.Training;

[Collection(GlobalTorchState.Name)]
public class MuonTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("cifar10-muon-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Theory]
    [InlineData(64, 576, 5)]
    [InlineData(256, 64, 5)]   // tall: the iteration runs on the transpose
    [InlineData(64, 576, 3)]   // airbench94_muon's three steps
    public void NewtonSchulzGivesANearlyOrthogonalMatrixInTheGradientsDirection(int rows, int columns, int steps)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(0);
        var gradient = randn(rows, columns) * 0.01;
        var update = Muon.Orthogonalize(gradient, steps);
        var singular = linalg.svdvals(update);
        // The quintic's coefficients trade exactness for speed: singular values land near 1, not on it.
        Assert.InRange(singular.min().item<float>(), steps == 3 ? 0.3f : 0.5f, 1.5f);
        Assert.InRange(singular.max().item<float>(), 0.5f, 1.5f);
        // ... and the direction is the gradient's polar factor U·Vᵀ.
        var (u, _, vh) = linalg.svd(gradient, fullMatrices: false);
        var polar = u.matmul(vh);
        float cosine = (update * polar).sum().item<float>() / (update.norm().item<float>() * polar.norm().item<float>());
        Assert.True(cosine > 0.9f, $"cosine with U·Vᵀ {cosine}");
    }

    static (nn.Module<Tensor, Tensor> Model, ITrainingOptimizer Optimizer) Network(TrainConfig config)
    {
        torch.manual_seed(4);
        var model = Trainer.CreateModel(config, 10);
        return (model, OptimizerFactory.Create(config, model));
    }

    static readonly TrainConfig MuonConfig = new()
    {
        Model = "fast", Optimizer = OptimizerKind.Muon, MuonLearningRate = 0.05, MuonMomentum = 0.6, MuonNewtonSchulzSteps = 3,
        LearningRate = 0.1, Momentum = 0.85, Nesterov = true, WeightDecay = 0, NormBiasLrScale = 1, HeadLrScale = 1, Seed = 4,
    };

    [Fact]
    public void TheMatricesGoToMuonAndTheVectorsAndTheHeadToTheFallback()
    {
        using var model = new FastNet();
        var orthogonalized = Muon.ParametersOf(model).ToList();
        // Six 3×3 convs of the three blocks; the whitening filters are frozen and the head is the output layer.
        Assert.Equal(6, orthogonalized.Count);
        Assert.All(orthogonalized, p => Assert.Equal(4, p.dim()));
        Assert.DoesNotContain(orthogonalized, p => ReferenceEquals(p, model.WhiteningWeight));
        Assert.Same(Muon.Head(model), model.modules().OfType<Linear>().Single());
    }

    [Fact]
    public void StepsReduceTheLossOnASmallProblem()
    {
        var (model, optimizer) = Network(MuonConfig with { Model = "tutorial", Depth = 2 });
        using var _ = model;
        using var __ = optimizer;
        using var data = TinyData.Make(64, seed: 1);
        var step = new TrainingStep(model, optimizer, labelSmoothing: 0);
        var x = Cifar10.Data.Normalization.Cifar10.Normalize(data.Images);
        float Loss()
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            return nn.functional.cross_entropy(model.forward(x), data.Labels).item<float>();
        }
        model.train();
        float before = Loss();
        for (int i = 0; i < 15; i++)
        {
            using var scope = NewDisposeScope();
            step.Run(x, data.Labels, learningRate: MuonConfig.LearningRate);
        }
        float after = Loss();
        Assert.True(after < 0.8 * before, $"loss {before} → {after}");
    }

    [Fact]
    public void ResumeRestoresItsStateExactly()
    {
        using var data = TinyData.Make(32, seed: 2);
        var x = Cifar10.Data.Normalization.Cifar10.Normalize(data.Images);
        var (a, optimizerA) = Network(MuonConfig);
        var (b, optimizerB) = Network(MuonConfig);
        using (a) using (b) using (optimizerA) using (optimizerB)
        {
            a.train();
            b.train();
            void Steps(nn.Module<Tensor, Tensor> model, ITrainingOptimizer optimizer, int count)
            {
                var step = new TrainingStep(model, optimizer, labelSmoothing: 0.2);
                for (int i = 0; i < count; i++)
                {
                    using var scope = NewDisposeScope();
                    step.Run(x, data.Labels, learningRate: 0.1);
                }
            }
            Steps(a, optimizerA, 3);
            var path = Path.Combine(root, "optimizer.bin");
            var weights = Path.Combine(root, "model.bin");
            optimizerA.Save(path);
            a.save(weights);
            Steps(a, optimizerA, 2);

            b.load(weights);
            optimizerB.Load(path);
            Steps(b, optimizerB, 2);
            foreach (var ((name, p), (_, q)) in a.named_parameters().Zip(b.named_parameters()))
                Assert.True(p.allclose(q, rtol: 0, atol: 0), $"{name} differs after resuming");
        }
    }

    [Fact]
    public void TheMuonRecipeIsAvailableByNameAndValid()
    {
        var config = Configs.For("fast", ("recipe", "muon"));
        Assert.Equal((OptimizerKind.Muon, 2000, 9, ScheduleKind.Linear, false), (config.Optimizer, config.BatchSize, config.Epochs, config.Schedule, config.Lookahead));
        Assert.Equal((24, 4), (config.LowRes, config.LowResEpochs));
        Assert.Equal("muon", TrainSettings.Resolve([]).Recipe); // the default: measured to reach airbench94's accuracy sooner
    }
}
