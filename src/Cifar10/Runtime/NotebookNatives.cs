using System.Runtime.InteropServices;
using System.Xml.Linq;
using TorchSharp;

namespace Cifar10.Runtime;

/// <summary>TorchSharp's native libraries in the NuGet package folders: libtorch.so of the libtorch-cpu package
/// that TorchSharp-cpu depends on, and TorchSharp's glue library libLibTorchSharp.so.</summary>
internal sealed record PackagedNatives(string LibTorch, string Glue);

/// <summary>
/// TorchSharp's native libraries for a host that loads assemblies straight from the NuGet package folders, as a
/// notebook's <c>#r "nuget: Cifar10.Core"</c> does (.NET Interactive: Polyglot Notebooks, Jupyter's .NET kernel).
/// No MSBuild target runs there, so two things a build output gets go missing: the libstdc++ fix of
/// buildTransitive/Cifar10.Core.targets never reaches libLibTorchSharp.so (it cannot load on Debian 12), and
/// TorchSharp's first lookup of libtorch by bare name finds a system libtorch of another version where one is
/// installed (Debian's python3-torch has 1.13), whose symbols then mix with the package's. The package's notebook
/// extension (interactive-extensions/dotnet/extension.dib) calls <see cref="Load"/> when a notebook references it,
/// before the first tensor.
/// </summary>
public static class NotebookNatives
{
    const string MissingVersion = "GLIBCXX_3.4.32";
    const string GlueName = "LibTorchSharp";
    static readonly object Gate = new();
    static string? loaded;

    /// <summary>
    /// Loads libtorch from its package by full path (so that the bare names TorchSharp asks for resolve to it), then
    /// the glue library, a copy with the <c>GLIBCXX_3.4.32</c> requirement marked weak where this system's libstdc++
    /// lacks that version (as the build does to the copy in its output), and binds TorchSharp's P/Invokes to it.
    /// Returns what it loaded, one line; null when nothing was needed: off Linux, or where TorchSharp was not loaded
    /// from a package folder (a build output, which the build has fixed). Calling it again does nothing.
    /// </summary>
    public static string? Load()
    {
        if (!OperatingSystem.IsLinux()) return null;
        lock (Gate)
        {
            if (loaded is not null) return loaded;
            var torchSharp = typeof(torch).Assembly;
            var natives = Locate(torchSharp.Location, $"linux-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}");
            if (natives is null) return null;

            NativeLibrary.Load(natives.LibTorch);
            bool weaken = !ElfVersionPatcher.SystemLibStdCxxHasVersion(MissingVersion);
            var glue = weaken ? LoadWeakenedCopy(natives.Glue) : NativeLibrary.Load(natives.Glue);
            NativeLibrary.SetDllImportResolver(torchSharp, (name, _, _) => name == GlueName ? glue : IntPtr.Zero);
            return loaded = $"TorchSharp's native libraries loaded from {Path.GetDirectoryName(natives.LibTorch)}" +
                            (weaken ? $" (libLibTorchSharp.so's {MissingVersion} requirement marked weak: this system's libstdc++ lacks it)" : "");
        }
    }

    /// <summary>
    /// The natives of the TorchSharp assembly at <paramref name="torchSharpAssembly"/> when it lies in a NuGet package
    /// folder (PACKAGES/torchsharp/VERSION/lib/TFM/TorchSharp.dll) next to the TorchSharp-cpu package of the same
    /// version, whose nuspec names the libtorch-cpu version; null for any other layout (a build output, a CUDA build).
    /// </summary>
    internal static PackagedNatives? Locate(string torchSharpAssembly, string rid)
    {
        var package = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(torchSharpAssembly) ?? ".", "..", ".."));
        var glue = Path.Combine(package, "runtimes", rid, "native", "libLibTorchSharp.so");
        var packages = Path.GetDirectoryName(Path.GetDirectoryName(package));
        if (!File.Exists(glue) || packages is null) return null;

        var nuspec = Path.Combine(packages, "torchsharp-cpu", Path.GetFileName(package), "torchsharp-cpu.nuspec");
        if (!File.Exists(nuspec)) return null;
        var libTorchVersion = XDocument.Load(nuspec).Descendants()
            .Where(e => e.Name.LocalName == "dependency" && (string?)e.Attribute("id") == "libtorch-cpu")
            .Select(e => (string?)e.Attribute("version"))
            .FirstOrDefault();
        if (libTorchVersion is null) return null;
        // A NuGet version range "[2.10.0]" or "[2.10.0, )" starts with the version restored; folders are lower case.
        libTorchVersion = libTorchVersion.Trim('[', '(', ' ').Split(',')[0].Trim(']', ')', ' ').ToLowerInvariant();

        var libTorch = Path.Combine(packages, $"libtorch-cpu-{rid}", libTorchVersion, "runtimes", rid, "native", "libtorch.so");
        return File.Exists(libTorch) ? new PackagedNatives(libTorch, glue) : null;
    }

    /// <summary>The NuGet cache is never modified: the weakened copy is written to the temporary folder, loaded, and
    /// deleted at once (the loader keeps its mapping), so nothing is left behind.</summary>
    static IntPtr LoadWeakenedCopy(string glue)
    {
        var bytes = File.ReadAllBytes(glue);
        ElfVersionPatcher.MarkVersionWeak(bytes, MissingVersion);
        var copy = Path.Combine(Path.GetTempPath(), $"cifar10-{System.Environment.ProcessId}-{Guid.NewGuid():N}-libLibTorchSharp.so");
        File.WriteAllBytes(copy, bytes);
        try
        {
            return NativeLibrary.Load(copy);
        }
        finally
        {
            File.Delete(copy);
        }
    }
}
