using Xunit;

namespace Cifar10.Tests.Data;

/// <summary>
/// Tests that read or set CIFAR10_DATA (a process-wide variable) run one at a time in this
/// collection; no other test calls DataLocator.Resolve without an explicit path.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "CIFAR10_DATA environment";
}

/// <summary>Sets an environment variable (null removes it) and restores the old value on Dispose.</summary>
sealed class EnvironmentVariableScope : IDisposable
{
    readonly string name;
    readonly string? previous;

    public EnvironmentVariableScope(string name, string? value)
    {
        this.name = name;
        previous = Environment.GetEnvironmentVariable(name);
        Environment.SetEnvironmentVariable(name, value);
    }

    public void Dispose() => Environment.SetEnvironmentVariable(name, previous);
}
