using System.Runtime.InteropServices;

namespace Cifar10.Runtime;

/// <summary>
/// Whether a path is a plain file. .NET reports a FIFO, a socket or a device as an ordinary existing
/// file of length 0, and opening a FIFO for reading blocks until someone writes to it, so a user's
/// file list is checked with the file type the kernel keeps (statx, whose layout is the same on
/// every Linux architecture) before anything is opened.
/// </summary>
internal static class RegularFile
{
    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    static extern int StatX(int directory, string path, int flags, uint mask, byte[] result);

    const int CurrentDirectory = -100;  // AT_FDCWD
    const uint TypeField = 0x1;         // STATX_TYPE
    const int ModeOffset = 28;          // stx_mode: after mask, blksize, attributes, nlink, uid, gid
    const int TypeMask = 0xF000, Regular = 0x8000;

    static bool noStatX = !OperatingSystem.IsLinux();

    /// <summary>True for a regular file (after following links); false for a missing path, a folder,
    /// a FIFO, a socket or a device.</summary>
    public static bool Is(string path)
    {
        if (!File.Exists(path)) return false;
        if (noStatX) return true;
        try
        {
            var buffer = new byte[256];
            if (StatX(CurrentDirectory, path, 0, TypeField, buffer) != 0) return File.Exists(path);
            return (BitConverter.ToUInt16(buffer, ModeOffset) & TypeMask) == Regular;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            noStatX = true; // a C library without statx (glibc < 2.28, musl < 1.2.5): no check
            return true;
        }
    }
}
