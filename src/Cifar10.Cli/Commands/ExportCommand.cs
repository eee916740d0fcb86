using System.CommandLine;
using Cifar10.Export;

namespace Cifar10.Cli.Commands;

/// <summary>`export`: a checkpoint as a PyTorch state_dict (the originals' names) or an ONNX model.</summary>
public static class ExportCommand
{
    public static Command Build(CliConsole console)
    {
        var checkpoint = CommonOptions.Checkpoint();
        var format = new Option<ExportFormat>("--format", "-f")
        {
            Description = "pt: a PyTorch state_dict (torch.load, then load_state_dict strict); onnx: an ONNX model taking uint8 RGB [N,3,32,32]",
            Required = true,
        };
        var output = new Option<string?>("--out", "-o") { Description = "File to write (default: model.pt or model.onnx beside the checkpoint)" };
        var force = new Option<bool>("--force")
        {
            Description = "Replace the file if it exists (never a file of the checkpoint or its run)",
        };
        var command = new Command("export", "Write a trained network as a PyTorch state_dict or an ONNX model") { checkpoint, format, output, force };
        command.SetAction(parsed =>
        {
            var path = ModelExport.Export(parsed.GetRequiredValue(checkpoint), parsed.GetValue(format), parsed.GetValue(output),
                                          parsed.GetValue(force), console.Interrupt);
            console.Out.WriteLine($"written: {path}");
            return Program.Success;
        });
        return command;
    }
}
