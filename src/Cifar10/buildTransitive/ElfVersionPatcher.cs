// Marks one GNU symbol-version requirement of an ELF64 shared library as WEAK (VER_FLG_WEAK),
// so that the dynamic loader only warns when the system library lacks that version.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so was built with GCC 13 and requires GLIBCXX_3.4.32,
// whose only symbol (std::ios_base_library_init) it never calls. Debian 12's libstdc++ stops at
// GLIBCXX_3.4.30, so without this the library cannot load. Used by Cifar10.Core.targets on
// the copy in the build output (Cifar10.Core.targets, beside this file), and compiled into the
// library too (CIFAR10_CORE, without the MSBuild task) for notebooks, where no MSBuild target runs
// (Runtime/NotebookNatives.cs); the tests check the logic through the library.
using System;
using System.IO;
using System.Text;

internal static class ElfVersionPatcher
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlagWeak = 0x2;

    /// <summary>The libstdc++ locations of common Linux distributions.</summary>
    public static readonly string[] LibStdCxxCandidates =
    {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
        "/usr/lib64/libstdc++.so.6",
        "/lib64/libstdc++.so.6",
        "/usr/lib/libstdc++.so.6",
    };

    /// <summary>True when a libstdc++ on this system defines <paramref name="version"/>.
    /// False when none is found or none has it.</summary>
    public static bool SystemLibStdCxxHasVersion(string version)
    {
        foreach (var path in LibStdCxxCandidates)
        {
            if (!File.Exists(path)) continue;
            return IndexOf(File.ReadAllBytes(path), Encoding.ASCII.GetBytes(version + "\0")) >= 0;
        }
        return false;
    }

    /// <summary>Sets VER_FLG_WEAK on every version-needed entry named <paramref name="version"/>.
    /// Returns how many entries were changed (0 when absent or already weak).</summary>
    public static int MarkVersionWeak(byte[] elf, string version)
    {
        int changed = 0;
        foreach (var (flagsOffset, name) in VersionNeeds(elf))
        {
            if (name != version) continue;
            ushort flags = BitConverter.ToUInt16(elf, flagsOffset);
            if ((flags & VerFlagWeak) != 0) continue;
            BitConverter.GetBytes((ushort)(flags | VerFlagWeak)).CopyTo(elf, flagsOffset);
            changed++;
        }
        return changed;
    }

    /// <summary>Null when the library does not require <paramref name="version"/>; else whether
    /// that requirement is weak.</summary>
    public static bool? IsVersionWeak(byte[] elf, string version)
    {
        foreach (var (flagsOffset, name) in VersionNeeds(elf))
            if (name == version)
                return (BitConverter.ToUInt16(elf, flagsOffset) & VerFlagWeak) != 0;
        return null;
    }

    /// <summary>Every Vernaux entry of the .gnu.version_r section: where its flags are, and its name.</summary>
    static System.Collections.Generic.IEnumerable<(int FlagsOffset, string Name)> VersionNeeds(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("only little-endian ELF64 is supported");

        long sectionTable = BitConverter.ToInt64(elf, 0x28);
        int sectionSize = BitConverter.ToUInt16(elf, 0x3A);
        int sectionCount = BitConverter.ToUInt16(elf, 0x3C);
        for (int i = 0; i < sectionCount; i++)
        {
            int header = checked((int)(sectionTable + (long)i * sectionSize));
            if (BitConverter.ToUInt32(elf, header + 4) != ShtGnuVerneed) continue;

            long offset = BitConverter.ToInt64(elf, header + 0x18);
            int linkedStrings = (int)BitConverter.ToUInt32(elf, header + 0x28);
            int needCount = (int)BitConverter.ToUInt32(elf, header + 0x2C);
            int stringsHeader = checked((int)(sectionTable + (long)linkedStrings * sectionSize));
            long strings = BitConverter.ToInt64(elf, stringsHeader + 0x18);

            long need = offset;
            for (int n = 0; n < needCount; n++)
            {
                int auxCount = BitConverter.ToUInt16(elf, (int)need + 2);
                long aux = need + BitConverter.ToUInt32(elf, (int)need + 8);
                for (int a = 0; a < auxCount; a++)
                {
                    long nameAt = strings + BitConverter.ToUInt32(elf, (int)aux + 8);
                    yield return ((int)aux + 4, ReadCString(elf, (int)nameAt));
                    aux += BitConverter.ToUInt32(elf, (int)aux + 12);
                }
                need += BitConverter.ToUInt32(elf, (int)need + 12);
            }
        }
    }

    static string ReadCString(byte[] bytes, int start)
    {
        int end = Array.IndexOf(bytes, (byte)0, start);
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }

    static int IndexOf(byte[] haystack, byte[] needle)
    {
        // A plain loop: MSBuild compiles this file against netstandard2.0, which has no span search.
        for (int i = 0; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }
}

#if !CIFAR10_CORE
/// <summary>MSBuild task: weakens <see cref="Version"/> in each file, unless the system already has it.</summary>
public class WeakenElfVersionRequirement : Microsoft.Build.Utilities.Task
{
    [Microsoft.Build.Framework.Required] public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();
    [Microsoft.Build.Framework.Required] public string Version { get; set; } = "";
    /// <summary>Patch even where this machine's libstdc++ has the version (output meant for other machines).</summary>
    public bool Always { get; set; }

    public override bool Execute()
    {
        if (!Always && ElfVersionPatcher.SystemLibStdCxxHasVersion(Version))
            return true;
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            var bytes = File.ReadAllBytes(path);
            if (ElfVersionPatcher.MarkVersionWeak(bytes, Version) == 0) continue;
            // Write beside, then rename: a half-written library would fail in confusing ways.
            var temporary = path + ".patching";
            File.WriteAllBytes(temporary, bytes);
            File.Replace(temporary, path, null);
            Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Normal,
                $"Marked {Version} weak in {path}");
        }
        return true;
    }
}
#endif
