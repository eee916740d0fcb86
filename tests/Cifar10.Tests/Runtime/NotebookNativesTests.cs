using Cifar10.Runtime;
using TorchSharp;
using Xunit;

namespace Cifar10.Tests.Runtime;

// What a notebook gets is checked end to end by scripts/run-notebooks.sh (CI runs every notebook in the .NET kernel);
// these check how the natives are found in the package folders, and that a build output is left alone.
public sealed class NotebookNativesTests : IDisposable
{
    readonly string packages = Directory.CreateTempSubdirectory("cifar10-packages-").FullName;

    public void Dispose() => Directory.Delete(packages, recursive: true);

    [Fact]
    public void FindsTheGlueAndTheLibtorchVersionThatTorchSharpCpuNames()
    {
        var (assembly, glue) = TorchSharpPackage("0.107.0");
        CombinedPackage("0.107.0", "[2.10.0]");
        var libTorch = File("libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native/libtorch.so");
        File("libtorch-cpu-linux-x64/2.9.1/runtimes/linux-x64/native/libtorch.so"); // another version in the cache

        Assert.Equal(new PackagedNatives(libTorch, glue), NotebookNatives.Locate(assembly, "linux-x64"));
    }

    [Fact]
    public void AcceptsAPlainDependencyVersion()
    {
        var (assembly, _) = TorchSharpPackage("0.107.0");
        CombinedPackage("0.107.0", "2.10.0");
        File("libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native/libtorch.so");

        Assert.NotNull(NotebookNatives.Locate(assembly, "linux-x64"));
    }

    [Fact]
    public void FindsNothingWithoutTheLibtorchPackageItNames()
    {
        var (assembly, _) = TorchSharpPackage("0.107.0");
        CombinedPackage("0.107.0", "[2.10.0]");
        File("libtorch-cpu-linux-x64/2.9.1/runtimes/linux-x64/native/libtorch.so");

        Assert.Null(NotebookNatives.Locate(assembly, "linux-x64"));
    }

    [Fact]
    public void FindsNothingWithoutTheCpuPackage()
    {
        // A CUDA build references TorchSharp-cuda-*: TorchSharp's own loader is left to it.
        var (assembly, _) = TorchSharpPackage("0.107.0");
        File("libtorch-cpu-linux-x64/2.10.0/runtimes/linux-x64/native/libtorch.so");

        Assert.Null(NotebookNatives.Locate(assembly, "linux-x64"));
    }

    [Fact]
    public void LeavesABuildOutputAlone()
    {
        // The tests run from a build output, whose natives the build placed (and fixed) beside the assemblies.
        Assert.Null(NotebookNatives.Locate(typeof(torch).Assembly.Location, "linux-x64"));
        Assert.Null(NotebookNatives.Load());
    }

    (string Assembly, string Glue) TorchSharpPackage(string version) =>
        (File($"torchsharp/{version}/lib/net8.0/TorchSharp.dll"), File($"torchsharp/{version}/runtimes/linux-x64/native/libLibTorchSharp.so"));

    void CombinedPackage(string version, string libTorchVersion) =>
        System.IO.File.WriteAllText(File($"torchsharp-cpu/{version}/torchsharp-cpu.nuspec"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
              <metadata>
                <id>TorchSharp-cpu</id>
                <dependencies>
                  <group targetFramework="net8.0">
                    <dependency id="TorchSharp" version="[{version}]" />
                    <dependency id="libtorch-cpu" version="{libTorchVersion}" exclude="Build,Analyzers" />
                  </group>
                </dependencies>
              </metadata>
            </package>
            """);

    string File(string relative)
    {
        var path = Path.Combine(packages, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, []);
        return path;
    }
}
