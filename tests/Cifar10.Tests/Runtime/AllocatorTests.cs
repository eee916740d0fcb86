using Cifar10.Runtime;
using Xunit;

namespace Cifar10.Tests.Runtime;

public class AllocatorTests
{
    [Fact]
    public void GlibcAcceptsTheSettingsOnLinux()
    {
        // CI and the project machines run Debian (glibc), where mallopt must succeed; elsewhere it is a no-op.
        Assert.Equal(OperatingSystem.IsLinux(), Allocator.ReturnFreedMemoryToTheSystem());
    }
}
