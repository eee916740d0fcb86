namespace Cifar10.Training;

/// <summary>Runs an action when disposed: the undo of a temporary change, or the clean-up of state a loop sets up, in a
/// <c>using</c> that holds on every path out.</summary>
internal sealed class OnDispose(Action action) : IDisposable
{
    public void Dispose() => action();
}
