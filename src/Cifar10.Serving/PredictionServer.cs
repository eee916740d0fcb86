using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Cifar10.Data;
using Cifar10.Prediction;
using Cifar10.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cifar10.Serving;

/// <summary>How the server listens, batches and limits requests (docs/serving.md lists the limits).</summary>
public sealed record ServerOptions
{
    /// <summary>An address (0.0.0.0 or :: for every interface), localhost, or a host name: the server listens on the
    /// addresses the name resolves to, and only on those.</summary>
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 8080;
    /// <summary>Most images in one forward pass; a request with more is split into passes of this size.</summary>
    public int MaxBatch { get; init; } = 64;
    /// <summary>How long the first request of a batch waits for others.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(5);
    public long MaxUploadBytes { get; init; } = 16L << 20;
    public int MaxImagesPerRequest { get; init; } = 64;
    /// <summary>From the request's arrival to its answer, waiting for memory and decoding included (else 504).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Classes returned per image, at most.</summary>
    public int Top { get; init; } = PredictionDefaults.Top;
    /// <summary>Decoded pixels all requests together hold at once (4 bytes a pixel): an image waits for its share, and one
    /// that needs more than all of it is refused (413).</summary>
    public long DecodingBytes { get; init; } = 512L << 20;
    /// <summary>Request bodies held at once, each counted twice (the upload and the decoder's copy of it): a request waits
    /// for its share before its body is read.</summary>
    public long UploadBytesInFlight { get; init; } = 256L << 20;
    /// <summary>Requests whose headers are larger get a JSON 431; the HTTP server closes those over four times this with a bare 431.</summary>
    public int MaxHeaderBytes { get; init; } = 32 << 10;
    /// <summary>What the page and /healthz say is served.</summary>
    public ServedModel? Served { get; init; }

    public const int MaxBatchLimit = 4096;
    public static readonly TimeSpan MaxWaitLimit = TimeSpan.FromSeconds(1);

    /// <summary>Throws a <see cref="ConfigException"/> naming the first option out of its range.</summary>
    public void Validate()
    {
        Check(!string.IsNullOrWhiteSpace(Host), "--host must name an address or a host");
        Check(Port is >= 0 and <= 65535, $"--port must be in 0..65535 (got {Port})");
        Check(MaxBatch is >= 1 and <= MaxBatchLimit, $"--max-batch must be in 1..{MaxBatchLimit} (got {MaxBatch})");
        Check(MaxWait >= TimeSpan.Zero && MaxWait <= MaxWaitLimit, $"--max-wait-ms must be in 0..{MaxWaitLimit.TotalMilliseconds:0} (got {MaxWait.TotalMilliseconds:0})");
        Check(Top >= 1, $"--top must be at least 1 (got {Top})");
        Check(DecodingBytes >= 1 << 20, $"--decode-memory-mib must be at least 1 (got {DecodingBytes >> 20})");
        Check(MaxUploadBytes >= 1 && MaxImagesPerRequest >= 1 && RequestTimeout > TimeSpan.Zero && MaxHeaderBytes >= 1024,
              "the upload, image, time and header limits must be positive");
        Check(UploadBytesInFlight >= 2 * MaxUploadBytes, "the uploads in flight must hold at least one upload of the largest size, twice");
    }

    static void Check(bool valid, string message)
    {
        if (!valid) throw new ConfigException(message);
    }
}

/// <summary>
/// The prediction server, as one ASP.NET Core minimal API: <c>POST /predict</c> (images as multipart
/// files or one image as the raw body; JSON top-k per image), <c>GET /</c> (a page to drop or pick
/// images and see their classes as bars), <c>GET /healthz</c> (what is served, the limits, memory) and
/// the OpenAPI description at <c>/openapi/v1.json</c>. Requests that arrive together share one forward
/// pass (<see cref="BatchingClassifier"/>). Every error is JSON <c>{"error": "..."}</c> with its status,
/// and the log gets one line per event, never a stack trace.
/// </summary>
public static class PredictionServer
{
    /// <summary>The application, ready to start, its network checked (see <see cref="CheckNetwork"/>);
    /// <paramref name="configure"/> may adjust the builder (tests use a test server, or capture the log).</summary>
    public static WebApplication Build(IImageClassifier classifier, ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        options.Validate();
        CheckNetwork(classifier);
        var addresses = ListenAddresses(options.Host, options.Port);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new OneLineLogger(Console.Error));
        builder.Logging.AddFilter(Logged);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxUploadBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 4 * options.MaxHeaderBytes;
            foreach (var address in addresses)
                if (address is null) kestrel.ListenLocalhost(options.Port);
                else kestrel.Listen(address, options.Port);
        });
        builder.Services.Configure<FormOptions>(form => form.MultipartBodyLengthLimit = options.MaxUploadBytes);
        builder.Services.AddOpenApi();
        builder.Services.AddRequestTimeouts(timeouts => timeouts.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = options.RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
            WriteTimeoutResponse = context => context.Response.WriteAsJsonAsync(new { error = $"the request took longer than the {options.RequestTimeout.TotalSeconds:0.#} s allowed" }),
        });
        var batching = new BatchingClassifier(classifier, options.MaxBatch, options.MaxWait);
        // The caller decides when to stop (the CLI on Ctrl-C or SIGTERM), not a console lifetime of the host's own.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, CallerLifetime>();
        configure?.Invoke(builder);

        var app = builder.Build();
        var handlers = new Handlers(batching, options, app.Logger);
        app.UseRequestTimeouts();
        app.Use(handlers.AnswerErrorsAsJson);
        app.Use(handlers.RefuseLargeHeaders);
        app.Lifetime.ApplicationStopped.Register(batching.Dispose); // in-flight requests are answered first
        app.MapOpenApi();
        app.MapGet("/", () => Results.Content(Page.Value, "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/healthz", handlers.Health).WithSummary("What is served, the limits, and the memory in use");
        app.MapPost("/predict", handlers.PredictAsync).DisableAntiforgery().WithSummary("Top classes of one or more images")
           .WithDescription("Images as multipart/form-data files (any field name), or one image as the raw body. Query: top (classes per image, 1 or more).");
        return app;
    }

    /// <summary>Warnings and errors, but not twice: a failed start is reported by the caller (Kestrel's critical line and
    /// the host's error say it again), and a request past its time limit by the handlers (the timeout middleware's own
    /// line carries an exception).</summary>
    static bool Logged(string? category, LogLevel level)
    {
        if (level < LogLevel.Warning || category is null) return level >= LogLevel.Warning;
        bool failedStart = level == LogLevel.Critical && category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal)
                           || level >= LogLevel.Error && category.StartsWith("Microsoft.Extensions.Hosting", StringComparison.Ordinal);
        return !failedStart && !category.StartsWith("Microsoft.AspNetCore.Http.Timeouts", StringComparison.Ordinal);
    }

    /// <summary>Starts listening. A bind failure (a port in use, an address not on this machine) is an
    /// <see cref="IOException"/> whose message is one line naming the address.</summary>
    public static void Start(WebApplication app, ServerOptions options)
    {
        try
        {
            app.StartAsync().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or SocketException || e.InnerException is SocketException)
        {
            var socket = e as SocketException ?? e.InnerException as SocketException ?? e.InnerException?.InnerException as SocketException;
            var reason = socket?.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "address already in use",
                SocketError.AddressNotAvailable => "address not available (not one of this machine's)",
                SocketError.AccessDenied => "permission denied",
                _ => (socket?.Message ?? e.Message).TrimEnd('.'),
            };
            throw new IOException($"cannot listen on {options.Host}:{options.Port}: {reason}");
        }
    }

    /// <summary>
    /// One forward pass on two grey images, before the first request: the network must take a batch of any size
    /// and give, for each image, one finite probability per class name (a checkpoint whose state.json names other
    /// classes than its network has outputs, or a diverged one, is refused here).
    /// </summary>
    public static void CheckNetwork(IImageClassifier classifier)
    {
        int classes = classifier.ClassNames.Count;
        if (classes < 2) throw new CheckpointException($"the network names {classes} classes; a classifier needs at least 2");
        var grey = new byte[2 * ImageDataset.ImageBytes];
        Array.Fill(grey, (byte)128);
        float[] probabilities;
        try
        {
            probabilities = classifier.Probabilities(grey, 2);
        }
        catch (Exception e) when (e is not CheckpointException)
        {
            throw new CheckpointException($"the network cannot classify a batch of two images: {e.Message}");
        }
        if (probabilities.Length != 2 * classes)
            throw new CheckpointException($"the network gives {probabilities.Length / 2.0:0.#} outputs per image but names {classes} classes ({string.Join(", ", classifier.ClassNames.Take(3))}, ...)");
        if (probabilities.Any(p => !float.IsFinite(p)))
            throw new CheckpointException("the network's probabilities for a grey image are not numbers (NaN or infinite): a diverged or damaged checkpoint");
    }

    /// <summary>The addresses <paramref name="host"/> stands for (null: localhost, both loopbacks); a name that
    /// resolves to nothing is a <see cref="ConfigException"/>.</summary>
    static IReadOnlyList<IPAddress?> ListenAddresses(string host, int port)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var address)) return [address];
        // Kestrel's localhost is both loopbacks, but it cannot give the two one port of its choosing.
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return port == 0 ? [IPAddress.Loopback] : [null];
        IPAddress[] found;
        try
        {
            found = Dns.GetHostAddresses(host);
        }
        catch (SocketException e)
        {
            throw new ConfigException($"--host {host} does not resolve to an address ({e.Message.TrimEnd('.')})");
        }
        if (found.Length == 0) throw new ConfigException($"--host {host} resolves to no address");
        return found.Distinct().ToArray();
    }

    static readonly Lazy<string> Page = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("index.html")!;
        return new StreamReader(stream).ReadToEnd();
    });

    /// <summary>A request the server answers with an error status and a one-line message.</summary>
    sealed class RequestError(int status, string message) : Exception(message)
    {
        public int Status { get; } = status;
    }

    /// <summary>The handlers and the state they share: the batching, the two memory budgets, the counters.</summary>
    sealed class Handlers(BatchingClassifier batching, ServerOptions options, ILogger log)
    {
        readonly MemoryBudget uploads = new(options.UploadBytesInFlight);
        readonly MemoryBudget decoding = new(options.DecodingBytes);
        readonly ServedModel served = options.Served ?? new ServedModel("(not named)", "");
        long decodedImages;

        IReadOnlyList<string> ClassNames => batching.ClassNames;

        public async Task<IResult> PredictAsync(HttpRequest request, CancellationToken cancellation)
        {
            int k = TopOf(request.Query);
            long expected = request.ContentLength ?? options.MaxUploadBytes;
            if (expected > options.MaxUploadBytes) throw UploadTooLarge();
            List<string> names;
            byte[] pixels;
            using (await uploads.AcquireAsync(2 * expected, cancellation))
            {
                var images = Open(await ReadUploadsAsync(request, cancellation));
                names = images.Select(i => i.Name).ToList();
                pixels = await DecodeAsync(images, cancellation);
            }
            var probabilities = await batching.ClassifyAsync(pixels, names.Count, cancellation);
            return Results.Json(new { predictions = names.Select((name, i) => new { name, top = Top(probabilities, i, name, k) }).ToList() });
        }

        /// <summary><c>?top=K</c>: 1 or more (more than the classes gives them all); the server's default without it.</summary>
        int TopOf(IQueryCollection query)
        {
            var values = query["top"];
            if (values.Count == 0) return Math.Min(options.Top, ClassNames.Count);
            if (values.Count > 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k) || k < 1)
                throw new RequestError(StatusCodes.Status400BadRequest, $"top must be a whole number, 1 or more (got '{Shorten(string.Join("&", values.ToArray()))}')");
            return Math.Min(k, ClassNames.Count);
        }

        RequestError UploadTooLarge() =>
            new(StatusCodes.Status413PayloadTooLarge, $"the request is larger than the {Size(options.MaxUploadBytes)} allowed");

        async Task<List<(string Name, byte[] Encoded)>> ReadUploadsAsync(HttpRequest request, CancellationToken cancellation)
        {
            try
            {
                return request.HasFormContentType ? await ReadFormFilesAsync(request, cancellation) : await ReadBodyAsync(request, cancellation);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw UploadTooLarge();
            }
            catch (BadHttpRequestException e)
            {
                throw new RequestError(e.StatusCode, $"the request cannot be read: {e.Message}");
            }
            catch (InvalidDataException e) when (e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase))
            {
                throw UploadTooLarge();
            }
            catch (InvalidDataException e) when (e.Message.Contains("Missing content-type boundary", StringComparison.OrdinalIgnoreCase))
            {
                throw new RequestError(StatusCodes.Status400BadRequest, "the multipart/form-data body cannot be read: its Content-Type has no boundary parameter");
            }
            catch (IOException) when (!cancellation.IsCancellationRequested)
            {
                // The form reader's "Unexpected end of Stream": no boundary line found before the body ends.
                throw new RequestError(StatusCodes.Status400BadRequest, "the multipart/form-data body cannot be read: it ends before its closing boundary (or has none)");
            }
            catch (InvalidDataException e)
            {
                throw new RequestError(StatusCodes.Status400BadRequest, $"the multipart/form-data body cannot be read: {e.Message.TrimEnd('.')}");
            }
        }

        static async Task<List<(string Name, byte[] Encoded)>> ReadFormFilesAsync(HttpRequest request, CancellationToken cancellation)
        {
            var form = await request.ReadFormAsync(cancellation);
            var files = new List<(string, byte[])>();
            foreach (var file in form.Files)
            {
                var bytes = new byte[file.Length];
                await using (var stream = file.OpenReadStream())
                    await stream.ReadExactlyAsync(bytes, cancellation);
                files.Add((string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName, bytes));
            }
            return files;
        }

        static async Task<List<(string Name, byte[] Encoded)>> ReadBodyAsync(HttpRequest request, CancellationToken cancellation)
        {
            using var body = request.ContentLength is { } length ? new MemoryStream((int)length) : new MemoryStream();
            await request.Body.CopyToAsync(body, cancellation);
            return body.Length == 0 ? [] : [("body", body.Length == body.Capacity ? body.GetBuffer() : body.ToArray())];
        }

        /// <summary>Every image's header, before anything is decoded: an unreadable image, or one too large, refuses the
        /// request at once.</summary>
        List<EncodedImage> Open(List<(string Name, byte[] Encoded)> uploaded)
        {
            if (uploaded.Count == 0)
                throw new RequestError(StatusCodes.Status400BadRequest, "no image: send files as multipart/form-data, or one image as the body (Content-Type image/*)");
            if (uploaded.Count > options.MaxImagesPerRequest)
                throw new RequestError(StatusCodes.Status413PayloadTooLarge, $"{uploaded.Count} images in one request; at most {options.MaxImagesPerRequest}");
            var images = new List<EncodedImage>();
            try
            {
                foreach (var (name, encoded) in uploaded)
                {
                    var image = EncodedImage.Open(encoded, name);
                    images.Add(image);
                    if (image.DecodeBytes > decoding.Capacity)
                        throw new RequestError(StatusCodes.Status413PayloadTooLarge, $"{name}: decoding {image.Width}×{image.Height} pixels takes {image.DecodeBytes >> 20} MiB, " +
                                                                                     $"more than the {decoding.Capacity >> 20} MiB this server decodes at once");
                }
                return images;
            }
            catch
            {
                images.ForEach(i => i.Dispose());
                throw;
            }
        }

        /// <summary>The images' pixels, one image after another, each once its share of the decoding budget is free.</summary>
        async Task<byte[]> DecodeAsync(List<EncodedImage> images, CancellationToken cancellation)
        {
            var pixels = new byte[images.Count * ImageDataset.ImageBytes];
            int next = 0;
            try
            {
                for (; next < images.Count; next++)
                    (await DecodeAsync(images[next], cancellation)).CopyTo(pixels, next * ImageDataset.ImageBytes);
            }
            finally
            {
                for (int i = next + 1; i < images.Count; i++) images[i].Dispose();
            }
            return pixels;
        }

        /// <summary>Decodes one image, which it disposes. A decode cannot be interrupted: past the time limit the request
        /// is answered (504) while the decode ends in the background, its memory counted until then.</summary>
        async Task<byte[]> DecodeAsync(EncodedImage image, CancellationToken cancellation)
        {
            IDisposable share;
            try
            {
                share = await decoding.AcquireAsync(image.DecodeBytes, cancellation);
            }
            catch
            {
                image.Dispose();
                throw;
            }
            var decode = Task.Run(() =>
            {
                using (share)
                using (image)
                {
                    var pixels = image.Decode(cancellation);
                    Interlocked.Increment(ref decodedImages);
                    return pixels;
                }
            }, CancellationToken.None);
            return await decode.WaitAsync(cancellation);
        }

        object Top(float[] probabilities, int image, string name, int k)
        {
            var row = probabilities.AsSpan(image * ClassNames.Count, ClassNames.Count);
            foreach (var p in row)
                if (!float.IsFinite(p))
                    throw new RequestError(StatusCodes.Status500InternalServerError, $"{name}: the network's probabilities are not numbers (NaN or infinite): a diverged or damaged checkpoint");
            return Predictor.Top(row, ClassNames, k).Select(c => c.ToJson());
        }

        public IResult Health() => Results.Json(new
        {
            status = "ok",
            model = new { network = served.Network, source = served.Source, run = served.Run, testAccuracy = served.TestAccuracy, testTta = served.TestTta },
            classes = ClassNames,
            limits = new
            {
                maxUploadBytes = options.MaxUploadBytes, maxImagesPerRequest = options.MaxImagesPerRequest, maxPixelsPerImage = ImageFile.MaxPixels,
                decodingBytes = options.DecodingBytes, uploadBytesInFlight = options.UploadBytesInFlight, maxHeaderBytes = options.MaxHeaderBytes,
                requestTimeoutSeconds = options.RequestTimeout.TotalSeconds, maxBatch = options.MaxBatch, maxWaitMs = options.MaxWait.TotalMilliseconds, top = options.Top,
            },
            decoding = new { bytesInFlight = decoding.InUse, peakBytes = decoding.Peak, images = Interlocked.Read(ref decodedImages) },
            memory = new { residentBytes = Environment.WorkingSet, peakResidentBytes = PeakResidentBytes() },
            passes = batching.Passes,
            images = batching.Images,
        });

        static long PeakResidentBytes()
        {
            using var process = Process.GetCurrentProcess();
            return process.PeakWorkingSet64;
        }

        /// <summary>The headers as Kestrel counts them ("name: value" and a line break each).</summary>
        public async Task RefuseLargeHeaders(HttpContext context, RequestDelegate next)
        {
            long bytes = 0;
            foreach (var (name, values) in context.Request.Headers)
                foreach (var value in values)
                    bytes += name.Length + 4 + (value?.Length ?? 0);
            if (bytes > options.MaxHeaderBytes)
                throw new RequestError(StatusCodes.Status431RequestHeaderFieldsTooLarge, $"the request's headers take {bytes:N0} bytes; at most {options.MaxHeaderBytes:N0}");
            await next(context);
        }

        /// <summary>Turns every failure into a JSON error with its status and, for the server's own faults, one log line.</summary>
        public async Task AnswerErrorsAsJson(HttpContext context, RequestDelegate next)
        {
            try
            {
                await next(context);
            }
            catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
            {
                if (context.Features.Get<IHttpRequestTimeoutFeature>()?.RequestTimeoutToken.IsCancellationRequested == true)
                    log.LogWarning("{Method} {Path}: no answer within the {Seconds:0.#} s allowed (504)", context.Request.Method, context.Request.Path, options.RequestTimeout.TotalSeconds);
                throw; // the timeout middleware answers 504; a client that went away gets nothing
            }
            catch (Exception e)
            {
                var (status, message) = e switch
                {
                    RequestError error => (error.Status, error.Message),
                    ImageTooLargeException => (StatusCodes.Status413PayloadTooLarge, e.Message),
                    ImageException => (StatusCodes.Status400BadRequest, e.Message),
                    BadHttpRequestException bad => (bad.StatusCode, $"the request cannot be read: {bad.Message}"),
                    _ => (StatusCodes.Status500InternalServerError, "internal error (the server's log names it)"),
                };
                message = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                if (status >= 500)
                    log.LogError("{Method} {Path}: {Message}", context.Request.Method, context.Request.Path, e is RequestError ? message : $"{e.GetType().Name}: {e.Message}");
                if (context.Response.HasStarted)
                {
                    context.Abort();
                    return;
                }
                context.Response.Clear();
                context.Response.StatusCode = status;
                await context.Response.WriteAsJsonAsync(new { error = message });
            }
        }

        static string Size(long bytes) => bytes >= 1 << 20 ? $"{bytes / (1024.0 * 1024):0.#} MiB" : $"{bytes / 1024.0:0.#} KiB";

        static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
    }

    sealed class CallerLifetime : Microsoft.Extensions.Hosting.IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>The server's log: one line an event, an exception as its type and first line, never a stack trace.</summary>
public sealed class OneLineLogger(TextWriter output) : ILoggerProvider, ILogger
{
    public ILogger CreateLogger(string categoryName) => this;
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var message = formatter(state, exception);
        if (exception is not null) message += $" ({exception.GetType().Name}: {exception.Message})";
        var line = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        lock (output) output.WriteLine($"{logLevel.ToString().ToLowerInvariant()}: {line}");
    }

    public void Dispose() { }
}
