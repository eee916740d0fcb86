using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Cifar10.Tests.Data;

/// <summary>
/// A tiny HTTP/1.1 server on 127.0.0.1 and a free port, built on TcpListener so tests control
/// exactly what goes over the wire (status, Content-Length, a body cut short).
/// </summary>
sealed class LocalHttpServer : IDisposable
{
    readonly TcpListener listener = new(IPAddress.Loopback, 0);
    readonly CancellationTokenSource stop = new();
    readonly Task loop;
    int requestCount;

    public byte[] Body { get; set; } = [];
    public int Status { get; set; } = 200;
    /// <summary>When set, the server announces this length but sends only <see cref="Body"/>, then closes.</summary>
    public long? AnnouncedLength { get; set; }
    /// <summary>When true, the server keeps the connection open after sending, as a stalled server does.</summary>
    public bool HoldOpen { get; set; }
    public int RequestCount => Volatile.Read(ref requestCount);
    public string Url => $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/cifar-10-binary.tar.gz";

    public LocalHttpServer()
    {
        listener.Start();
        loop = Task.Run(ServeAsync);
    }

    /// <summary>A URL on which nothing listens: connecting to it is refused, as when offline.</summary>
    public static string ClosedPortUrl()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return $"http://127.0.0.1:{port}/cifar-10-binary.tar.gz";
    }

    async Task ServeAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await listener.AcceptTcpClientAsync(stop.Token); }
            catch (Exception) { return; }
            using (client)
            {
                var stream = client.GetStream();
                await ReadRequestHeadAsync(stream);
                Interlocked.Increment(ref requestCount);
                var reason = Status == 200 ? "OK" : Status == 404 ? "Not Found" : "Error";
                var head = $"HTTP/1.1 {Status} {reason}\r\nContent-Type: application/octet-stream\r\n" +
                           $"Content-Length: {AnnouncedLength ?? Body.Length}\r\nConnection: close\r\n\r\n";
                try
                {
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                    if (Status == 200) await stream.WriteAsync(Body);
                    if (HoldOpen) await Task.Delay(Timeout.Infinite, stop.Token);
                }
                catch (IOException) { } // the client gave up early; fine for a test server
                catch (OperationCanceledException) { return; }
            }
        }
    }

    static async Task ReadRequestHeadAsync(NetworkStream stream)
    {
        var seen = new StringBuilder();
        var buffer = new byte[1024];
        while (!seen.ToString().Contains("\r\n\r\n"))
        {
            int read = await stream.ReadAsync(buffer);
            if (read == 0) return;
            seen.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
        try { loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        stop.Dispose();
    }
}
