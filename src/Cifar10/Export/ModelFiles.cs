using Cifar10.Training;

namespace Cifar10.Export;

/// <summary>What a file given for a network is, told by its first bytes (and, for ONNX, its name).</summary>
public enum ModelFileKind
{
    /// <summary>Not a file: a folder, or nothing.</summary>
    NotAFile,
    /// <summary>A zip: what torch.save writes since PyTorch 1.6 (a state_dict, or a TorchScript archive).</summary>
    PyTorchZip,
    /// <summary>A bare pickle: torch.save with _use_new_zipfile_serialization=False, or PyTorch before 1.6.</summary>
    PyTorchLegacy,
    /// <summary>An ONNX model (a protobuf ModelProto).</summary>
    Onnx,
    /// <summary>One of the files of a checkpoint folder (model.bin, optimizer.bin, state.json).</summary>
    CheckpointPart,
    /// <summary>Any other file.</summary>
    Other,
}

/// <summary>
/// Tells what kind of file the user named, so that a command given the wrong kind says what it got
/// and what to do with it instead of "not found" or a parser's complaint.
/// </summary>
public static class ModelFiles
{
    /// <summary>The extension of ONNX files: a file with it counts as ONNX whatever its first bytes.</summary>
    public const string OnnxExtension = ".onnx";

    /// <summary>What <paramref name="path"/> is, from its name and first bytes; an unreadable file is a <see cref="CheckpointException"/>.</summary>
    public static ModelFileKind Kind(string path)
    {
        if (!File.Exists(path)) return ModelFileKind.NotAFile;
        var name = Path.GetFileName(path);
        if (name is Checkpoint.ModelFile or Checkpoint.OptimizerFile or Checkpoint.StateFile
            && File.Exists(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Checkpoint.StateFile)))
            return ModelFileKind.CheckpointPart;
        Span<byte> head = stackalloc byte[4];
        int read;
        try
        {
            using var stream = File.OpenRead(path);
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"{path} cannot be read: {OneLine.Of(e.Message)}");
        }
        head = head[..read];
        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8)) return ModelFileKind.PyTorchZip;
        if (head.Length >= 2 && head[0] == 0x80 && head[1] <= 5) return ModelFileKind.PyTorchLegacy; // pickle PROTO opcode
        // An ONNX file starts with field 1 (ir_version) as a varint: tag byte 0x08.
        if (Path.GetExtension(path).Equals(OnnxExtension, StringComparison.OrdinalIgnoreCase) || (head.Length > 0 && head[0] == 0x08))
            return ModelFileKind.Onnx;
        return ModelFileKind.Other;
    }

    /// <summary>Whether <paramref name="path"/> is an ONNX model (which <see cref="Prediction.ImageClassifier.Open"/> runs on ONNX Runtime).</summary>
    public static bool IsOnnx(string path) => Kind(path) == ModelFileKind.Onnx;

    static string FolderOf(string path) => Path.GetDirectoryName(path) is { Length: > 0 } folder ? folder : ".";

    /// <summary>Why <paramref name="path"/>, an existing file, is not a checkpoint, and what to do with it; one line.</summary>
    internal static string NotACheckpoint(string path) => Kind(path) switch
    {
        ModelFileKind.CheckpointPart =>
            $"{path} is a file of the checkpoint {FolderOf(path)}; pass the folder itself (or its run folder) as --checkpoint",
        ModelFileKind.PyTorchZip or ModelFileKind.PyTorchLegacy =>
            $"{path} is a PyTorch file, not a checkpoint: evaluate a state_dict with eval --weights {path} --model NAME, or train from it with train --init-from {path}",
        ModelFileKind.Onnx =>
            $"{path} is an ONNX model: predict, eval and serve take it as --checkpoint; this command needs a run folder or a checkpoint folder",
        _ => $"{path} is a file, not a checkpoint: --checkpoint takes a run folder, a checkpoint folder ({Checkpoint.StateFile} and {Checkpoint.ModelFile}) or an exported {OnnxExtension} file",
    };
}
