using Xunit;

namespace Cifar10.Tests;

/// <summary>
/// Tests whose results depend on libtorch's process-wide state (the global random generator,
/// which dropout draws from, or the thread count) run alone in this collection, after the
/// parallel ones, so that no other test draws from the generator between a seed and its use
/// (or, for the process-memory tests, frees memory while resident memory is measured).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalTorchState
{
    public const string Name = "global torch state";
}
