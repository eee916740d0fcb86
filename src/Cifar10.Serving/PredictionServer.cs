using System.Reflection;
using Cifar10.Data;
using Cifar10.Prediction;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Timeouts;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Cifar10.Serving;

/// <summary>How the server listens, batches and limits requests.</summary>
public sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = 8080;
    /// <summary>Most images in one forward pass.</summary>
    public int MaxBatch { get; init; } = 64;
    /// <summary>How long the first request of a batch waits for others.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(5);
    public long MaxUploadBytes { get; init; } = 16L << 20;
    public int MaxImagesPerRequest { get; init; } = 64;
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Classes returned per image, at most.</summary>
    public int Top { get; init; } = 5;
    /// <summary>What /healthz says is being served.</summary>
    public string ModelName { get; init; } = "";
}

/// <summary>
/// The prediction server, as one ASP.NET Core minimal API: <c>POST /predict</c> (images as multipart
/// files or one image as the raw body; JSON top-k per image), <c>GET /</c> (a page to drop or pick
/// images and see their classes as bars), <c>GET /healthz</c> and the OpenAPI description at
/// <c>/openapi/v1.json</c>. Requests that arrive together share one forward pass
/// (<see cref="BatchingClassifier"/>). Every error is JSON <c>{"error": "..."}</c> with a 4xx status.
/// </summary>
public static class PredictionServer
{
    /// <summary>The application, ready to run; <paramref name="configure"/> may adjust the builder (tests use a test server).</summary>
    public static WebApplication Build(IImageClassifier classifier, ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxUploadBytes);
        builder.WebHost.UseUrls($"http://{options.Host}:{options.Port}");
        builder.Services.Configure<Microsoft.AspNetCore.Http.Features.FormOptions>(form => form.MultipartBodyLengthLimit = options.MaxUploadBytes);
        builder.Services.AddOpenApi();
        builder.Services.AddRequestTimeouts(timeouts => timeouts.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = options.RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
            WriteTimeoutResponse = context => context.Response.WriteAsJsonAsync(new { error = $"the request took longer than {options.RequestTimeout.TotalSeconds:0} s" }),
        });
        var batching = new BatchingClassifier(classifier, options.MaxBatch, options.MaxWait);
        builder.Services.AddSingleton(batching);
        // The caller decides when to stop (the CLI on Ctrl-C or SIGTERM), not a console lifetime of the host's own.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, CallerLifetime>();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseRequestTimeouts();
        app.Lifetime.ApplicationStopped.Register(batching.Dispose); // in-flight requests are answered first
        app.MapOpenApi();

        app.MapGet("/", () => Results.Content(Page.Value, "text/html; charset=utf-8")).ExcludeFromDescription();

        app.MapGet("/healthz", () => Results.Json(new
        {
            status = "ok", model = options.ModelName, classes = batching.ClassNames, passes = batching.Passes, images = batching.Images,
        })).WithSummary("Liveness and what is served");

        app.MapPost("/predict", async (HttpRequest request, int? top, CancellationToken cancellation) =>
        {
            List<(string Name, byte[] Encoded)> uploads;
            if (request.ContentLength > options.MaxUploadBytes)
                return Error(StatusCodes.Status413PayloadTooLarge, $"the request is larger than the {options.MaxUploadBytes >> 20} MiB allowed");
            try
            {
                uploads = await ReadUploads(request, options, cancellation);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return Error(StatusCodes.Status413PayloadTooLarge, $"the request is larger than the {options.MaxUploadBytes >> 20} MiB allowed");
            }
            catch (InvalidDataException e) when (e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase))
            {
                return Error(StatusCodes.Status413PayloadTooLarge, $"the request is larger than the {options.MaxUploadBytes >> 20} MiB allowed");
            }
            catch (InvalidDataException e)
            {
                return Error(StatusCodes.Status400BadRequest, $"the multipart body cannot be read: {e.Message}");
            }
            if (uploads.Count == 0)
                return Error(StatusCodes.Status400BadRequest, "no image: send files as multipart/form-data, or one image as the body (Content-Type image/*)");
            if (uploads.Count > options.MaxImagesPerRequest)
                return Error(StatusCodes.Status413PayloadTooLarge, $"{uploads.Count} images in one request; at most {options.MaxImagesPerRequest}");
            int k = Math.Clamp(top ?? options.Top, 1, batching.ClassNames.Count);

            var pixels = new byte[uploads.Count * ImageDataset.ImageBytes];
            for (int i = 0; i < uploads.Count; i++)
            {
                try
                {
                    ImageFile.Decode(uploads[i].Encoded, uploads[i].Name).CopyTo(pixels, i * ImageDataset.ImageBytes);
                }
                catch (ImageTooLargeException e)
                {
                    return Error(StatusCodes.Status413PayloadTooLarge, e.Message);
                }
                catch (ImageException e)
                {
                    return Error(StatusCodes.Status400BadRequest, e.Message);
                }
            }
            var probabilities = await batching.ClassifyAsync(pixels, uploads.Count, cancellation);
            return Results.Json(new
            {
                predictions = uploads.Select((upload, i) => new
                {
                    name = upload.Name,
                    top = Predictor.Top(probabilities.AsSpan(i * batching.ClassNames.Count, batching.ClassNames.Count), batching.ClassNames, k)
                                .Select(c => new { @class = c.ClassName, probability = Math.Round(c.Probability, 6) }),
                }),
            });
        }).DisableAntiforgery().WithSummary("Top classes of one or more images")
          .WithDescription("Images as multipart/form-data files (any field name), or one image as the raw body. Query: top (classes per image).");

        return app;
    }

    static async Task<List<(string Name, byte[] Encoded)>> ReadUploads(HttpRequest request, ServerOptions options, CancellationToken cancellation)
    {
        var uploads = new List<(string, byte[])>();
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellation);
            foreach (var file in form.Files)
            {
                using var stream = new MemoryStream();
                await file.CopyToAsync(stream, cancellation);
                uploads.Add((string.IsNullOrEmpty(file.FileName) ? file.Name : file.FileName, stream.ToArray()));
            }
            return uploads;
        }
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, cancellation);
        if (body.Length > 0) uploads.Add(("body", body.ToArray()));
        return uploads;
    }

    static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);

    static readonly Lazy<string> Page = new(() =>
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("index.html")!;
        return new StreamReader(stream).ReadToEnd();
    });

    sealed class CallerLifetime : Microsoft.Extensions.Hosting.IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
