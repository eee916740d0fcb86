using System.Reflection;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Cifar10.Runtime;

/// <summary>Versions and machine facts written beside every result.</summary>
/// <param name="ToolkitVersion">This library's version (with its commit).</param>
/// <param name="TorchSharpVersion">TorchSharp's version.</param>
/// <param name="LibTorchVersion">libtorch's version.</param>
/// <param name="DotNetVersion">The .NET runtime.</param>
/// <param name="OperatingSystem">The operating system.</param>
/// <param name="Cpu">The CPU: its name, family, model and widest vector unit.</param>
/// <param name="LogicalCores">The logical cores this process may use.</param>
/// <param name="TorchThreads">libtorch's intra-op threads.</param>
/// <param name="Device">The compute device.</param>
/// <param name="HugePages">Whether large tensors live on huge pages (<see cref="ProcessMemory.HugePagesState"/>).</param>
/// <param name="Malloc">glibc's allocator thresholds (<see cref="ProcessMemory.MallocState"/>).</param>
public sealed record EnvironmentInfo(
    string ToolkitVersion, string TorchSharpVersion, string LibTorchVersion, string DotNetVersion,
    string OperatingSystem, string Cpu, int LogicalCores, int TorchThreads, string Device, string HugePages, string Malloc)
{
    /// <summary>This process's versions and machine, computing on <paramref name="device"/>.</summary>
    public static EnvironmentInfo Capture(Device device) => new(
        typeof(EnvironmentInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown",
        torch.__version__,
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.OSDescription,
        CpuInfo.Current.Description,
        System.Environment.ProcessorCount,
        torch.get_num_threads(),
        device.ToString(),
        ProcessMemory.HugePagesState(),
        ProcessMemory.MallocState());
}

/// <summary>Chooses the compute device and thread count, with errors a user can act on.</summary>
public static class DeviceSetup
{
    /// <summary>The device called <paramref name="name"/> (cpu, cuda, cuda:N); CUDA on a CPU-only build, or an unknown name, is a <see cref="ConfigException"/>.</summary>
    public static Device Resolve(string name)
    {
        var lowered = name.Trim().ToLowerInvariant();
        if (lowered.StartsWith("cuda") && !torch.cuda.is_available())
            throw new ConfigException($"device '{name}' requested but CUDA is not available (this build uses TorchSharp-cpu; build with -p:TorchBackend=cuda on a machine with an NVIDIA GPU)");
        try
        {
            return torch.device(lowered);
        }
        catch (Exception)
        {
            throw new ConfigException($"unknown device '{name}'; use cpu, cuda or cuda:N");
        }
    }

    /// <summary>More threads than this is a typo, and libgomp aborts the whole process on absurd counts.</summary>
    public const int MaxThreads = 1024;

    /// <summary>Sets libtorch's intra-op threads; 0 leaves its default (one per core); an absurd count is a <see cref="ConfigException"/>.</summary>
    public static void SetThreads(int threads)
    {
        CheckThreads(threads);
        if (threads > 0) torch.set_num_threads(threads);
    }

    /// <summary>The threads setting's own check, for commands that take --threads without the other settings.</summary>
    public static void CheckThreads(int threads)
    {
        if (Training.TrainSettings.Get("threads").Check(new Training.TrainConfig { Threads = threads }) is { } problem)
            throw new ConfigException(problem);
    }
}
