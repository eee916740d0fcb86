using System.Reflection;
using System.Runtime.CompilerServices;
using System.Xml.Linq;
using Cifar10.Data;
using Cifar10.Distributed;
using Cifar10.Export;
using Cifar10.Models;
using Cifar10.Reporting;
using Cifar10.Runs;
using Cifar10.Runtime;
using Cifar10.Sweeps;
using Cifar10.Training;
using Xunit;

namespace Cifar10.Tests.Build;

/// <summary>
/// The package's surface (docs/design.md, Public API): plumbing stays internal, and everything public is
/// documented in the XML file the package ships, so that neither can erode unnoticed.
/// </summary>
public class PublicApiTests
{
    static readonly Assembly Library = typeof(Trainer).Assembly;

    /// <summary>Helpers of the library's own: file writing, file formats, OS and CPU probing, MPI, the download and
    /// extraction steps behind <see cref="DataSource.Open"/>, the writers behind the run layer.</summary>
    static readonly Type[] Plumbing =
    [
        typeof(AtomicFile), typeof(CreatedFolders), typeof(JsonFiles), typeof(OneLine),
        typeof(CpuInfo), typeof(RegularFile), typeof(Autocast), typeof(ElfVersionPatcher), typeof(PackagedNatives),
        typeof(Html), typeof(Csv), typeof(MetricsCsv), typeof(LearningRateCsv), typeof(ConfusionTables), typeof(ConfusionSummary),
        typeof(RunReportPage), typeof(SweepIndexPage), typeof(SweepReport), typeof(SweepTrial),
        typeof(MpiLibrary), typeof(MpiCommunicator), typeof(ICommunicator), typeof(DataParallel), typeof(GradientAllReduce), typeof(SharedCheckpoint),
        typeof(DataLocator), typeof(Downloader), typeof(ArchiveExtractor), typeof(CifarBinary), typeof(BinaryLayout), typeof(ImageFolder),
        typeof(Batches), typeof(Pickle), typeof(StateDictFile),
        typeof(OutputFiles), typeof(RunFileSet), typeof(TestEvaluation), typeof(TestPredictions), typeof(SweepManifest),
        typeof(Seeds), typeof(SettingAttribute), typeof(TrainConfigJsonConverter), typeof(Muon), typeof(Lookahead),
        typeof(ModelGuards), typeof(LeanMaxPool),
    ];

    [Fact]
    public void PlumbingIsInternal()
    {
        var exposed = Plumbing.Where(type => type.IsVisible).Select(type => type.FullName).ToList();
        Assert.True(exposed.Count == 0, "plumbing that must stay internal is public: " + string.Join(", ", exposed));
    }

    [Fact]
    public void ThePackageShipsDocumentationForEveryPublicType()
    {
        var documented = Documentation();
        var missing = Library.GetExportedTypes().Select(DocId).Where(id => !documented.Contains(id)).ToList();
        Assert.True(missing.Count == 0, "public types without a doc comment: " + string.Join(", ", missing));
    }

    /// <summary>What the build's CS1591 error enforces, checked here too: a member without documentation
    /// (positional record properties included, documented by the record's param tags) is named.</summary>
    [Fact]
    public void ThePackageShipsDocumentationForEveryPublicMember()
    {
        var documented = Documentation();
        var missing = Library.GetExportedTypes().SelectMany(VisibleMembers).Select(MemberId).Where(id => !documented.Contains(id)).ToList();
        Assert.True(missing.Count == 0, "public members without a doc comment: " + string.Join(", ", missing));
    }

    [Fact]
    public void DocIdsAreThoseTheCompilerWrites()
    {
        // A mistake in MemberId would make the test above fail for documented members, or pass for none.
        var ids = Library.GetExportedTypes().SelectMany(VisibleMembers).Select(MemberId).ToHashSet();
        Assert.Contains("M:Cifar10.Evaluation.EvaluationResult.#ctor(System.Double,System.Double,System.Int32[0:,0:],System.Int32[],System.Int32[],System.Single[],System.Collections.Generic.IReadOnlyList{System.String},System.Single[])", ids);
        Assert.Contains("M:Cifar10.Training.Setting`1.Parse(System.String)", ids);
        Assert.Contains("P:Cifar10.Evaluation.EvaluationResult.Loss", ids);
        Assert.Contains("F:Cifar10.Training.OptimizerKind.Muon", ids);
        Assert.Contains("M:Cifar10.Sweeps.LearningRateFinder.Run(TorchSharp.torch.nn.Module{TorchSharp.torch.Tensor,TorchSharp.torch.Tensor},Cifar10.Data.ImageDataset,Cifar10.Training.TrainConfig,TorchSharp.torch.Device,System.Double,System.Double,System.Int32,System.Threading.CancellationToken,Cifar10.Data.Normalization,System.IProgress{Cifar10.WorkProgress})", ids);
    }

    /// <summary>The ids of the members with a summary (or an inheritdoc) in the XML file beside the library.</summary>
    static HashSet<string> Documentation()
    {
        var file = Path.Combine(AppContext.BaseDirectory, "Cifar10.Core.xml");
        Assert.True(File.Exists(file), $"{file} is missing: the library's csproj must keep GenerateDocumentationFile");
        return XDocument.Load(file).Descendants("member")
            .Where(m => m.Element("inheritdoc") is not null || !string.IsNullOrWhiteSpace(m.Element("summary")?.Value))
            .Select(m => (string)m.Attribute("name")!).ToHashSet();
    }

    static IEnumerable<MemberInfo> VisibleMembers(Type type) =>
        type.GetMembers(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Where(m => IsVisible(m) && !m.IsDefined(typeof(CompilerGeneratedAttribute)) && m is not Type
                        && !(m is MethodBase method && method.IsSpecialName && !method.Name.StartsWith("op_") && m is not ConstructorInfo)
                        && !(m is FieldInfo { IsSpecialName: true })                        // an enum's value__
                        && !(m is ConstructorInfo { IsStatic: true })
                        && !(m is ConstructorInfo ctor && ctor.GetParameters().Length == 0)   // the implicit default constructor
                        && !(type.IsEnum && m is MethodBase));

    static bool IsVisible(MemberInfo member) => member switch
    {
        MethodBase m => m.IsPublic || m.IsFamily || m.IsFamilyOrAssembly,
        FieldInfo f => f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly,
        PropertyInfo p => p.GetAccessors(nonPublic: true).Any(a => a.IsPublic || a.IsFamily || a.IsFamilyOrAssembly),
        EventInfo e => e.AddMethod is { } add && (add.IsPublic || add.IsFamily || add.IsFamilyOrAssembly),
        _ => false,
    };

    /// <summary>The documentation id of a type, as the C# compiler writes it ("T:Cifar10.Training.Setting`1").</summary>
    static string DocId(Type type) => "T:" + TypeName(type);

    static string TypeName(Type type) => type.FullName!.Replace('+', '.');

    static string MemberId(MemberInfo member)
    {
        var owner = TypeName(member.DeclaringType!);
        switch (member)
        {
            case FieldInfo: return $"F:{owner}.{member.Name}";
            case PropertyInfo p:
                var indices = p.GetIndexParameters();
                return $"P:{owner}.{p.Name}" + (indices.Length == 0 ? "" : $"({string.Join(",", indices.Select(i => ParameterType(i.ParameterType)))})");
            case EventInfo: return $"E:{owner}.{member.Name}";
            case MethodBase method:
                var name = method is ConstructorInfo ? "#ctor" : method.Name + (method.IsGenericMethodDefinition ? $"``{method.GetGenericArguments().Length}" : "");
                var parameters = method.GetParameters();
                var id = $"M:{owner}.{name}" + (parameters.Length == 0 ? "" : $"({string.Join(",", parameters.Select(p => ParameterType(p.ParameterType)))})");
                return method is MethodInfo { Name: "op_Implicit" or "op_Explicit" } conversion ? $"{id}~{ParameterType(conversion.ReturnType)}" : id;
            default: throw new NotSupportedException(member.GetType().Name);
        }
    }

    /// <summary>A parameter's type in a documentation id: generic arguments in braces, arrays with their bounds,
    /// a by-ref with '@', a type parameter by position.</summary>
    static string ParameterType(Type type)
    {
        if (type.IsGenericParameter) return (type.DeclaringMethod is null ? "`" : "``") + type.GenericParameterPosition;
        if (type.IsByRef) return ParameterType(type.GetElementType()!) + "@";
        if (type.IsPointer) return ParameterType(type.GetElementType()!) + "*";
        if (type.IsArray)
            return ParameterType(type.GetElementType()!) + (type.IsSZArray ? "[]" : $"[{string.Join(",", Enumerable.Repeat("0:", type.GetArrayRank()))}]");
        if (!type.IsGenericType) return TypeName(type);
        var definition = TypeName(type.GetGenericTypeDefinition());
        return definition[..definition.LastIndexOf('`')] + "{" + string.Join(",", type.GetGenericArguments().Select(ParameterType)) + "}";
    }
}
