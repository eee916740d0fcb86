using TorchSharp;
using Xunit;

namespace Cifar10.Tests.Build;

public class NativeLoadingTests
{
    [Fact]
    public void TorchInitialisesAndComputes()
    {
        // Fails when libLibTorchSharp.so cannot load (e.g. the GLIBCXX_3.4.32 patch did not run).
        using var sum = torch.arange(1, 5, dtype: torch.float32).sum();
        Assert.Equal(10f, sum.item<float>());
    }

    [Fact]
    public void BuildOutputCopyIsLoadableWhileNuGetCacheIsUntouched()
    {
        var output = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        if (!OperatingSystem.IsLinux() || !File.Exists(output)) return;
        var bytes = File.ReadAllBytes(output);
        var weak = ElfVersionPatcher.IsVersionWeak(bytes, "GLIBCXX_3.4.32");
        if (ElfVersionPatcher.SystemLibStdCxxHasVersion("GLIBCXX_3.4.32"))
            Assert.NotEqual(true, weak); // nothing changed where it is not needed
        else
            Assert.Equal(true, weak);
    }

    [Fact]
    public void PatcherMarksOnlyTheNamedVersionAndIsIdempotent()
    {
        var original = FindPackagedLibrary();
        if (original is null) return;
        var bytes = File.ReadAllBytes(original);
        Assert.Equal(false, ElfVersionPatcher.IsVersionWeak(bytes, "GLIBCXX_3.4.32"));
        Assert.Equal(1, ElfVersionPatcher.MarkVersionWeak(bytes, "GLIBCXX_3.4.32"));
        Assert.Equal(true, ElfVersionPatcher.IsVersionWeak(bytes, "GLIBCXX_3.4.32"));
        Assert.Equal(false, ElfVersionPatcher.IsVersionWeak(bytes, "GLIBCXX_3.4.19"));
        Assert.Equal(0, ElfVersionPatcher.MarkVersionWeak(bytes, "GLIBCXX_3.4.32"));
        Assert.Null(ElfVersionPatcher.IsVersionWeak(bytes, "GLIBCXX_9.9.99"));
    }

    [Fact]
    public void PatcherRejectsNonElfInput()
    {
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.MarkVersionWeak(new byte[128], "X"));
    }

    static string? FindPackagedLibrary()
    {
        var home = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                   ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var path = Path.Combine(home, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }
}
