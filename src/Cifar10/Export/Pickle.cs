using System.Buffers.Binary;
using System.Text;

namespace Cifar10.Export;

/// <summary>A Python tuple read from a pickle.</summary>
internal sealed record PyTuple(IReadOnlyList<object?> Items);

/// <summary>A Python dict read from a pickle, in insertion order (state_dicts are OrderedDicts).</summary>
internal sealed class PyDict
{
    public List<KeyValuePair<object?, object?>> Items { get; } = [];
}

/// <summary>A class or function a pickle names (<c>module.name</c>); never imported, only recognised.</summary>
internal sealed record PyGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A storage a tensor's data lives in: the zip entry <c>data/KEY</c>, its element type and length.</summary>
internal sealed record StorageRef(string Key, TorchSharp.torch.ScalarType Type, long Length);

/// <summary>A tensor as the pickle describes it: a strided view of (part of) a storage. No data is read yet.</summary>
internal sealed record TensorRecord(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

/// <summary>Why a pickle cannot be read as a state_dict; the message is the reader's, without the file name.</summary>
internal sealed class PickleException(string message) : Exception(message);

/// <summary>
/// Reads the pickle of a PyTorch state_dict (<c>data.pkl</c> in the zip that <c>torch.save</c> writes)
/// without running anything: a stack machine over the opcodes Python's pickler emits for dicts, lists,
/// tuples, strings, numbers and tensors, which recognises the few callables a state_dict names
/// (OrderedDict, torch's tensor and parameter rebuilders, the typed storages) and refuses every other
/// one. Tensors come out as <see cref="TensorRecord"/>s, so names and shapes can be checked before any
/// tensor data is read.
/// </summary>
internal sealed class Pickle
{
    static readonly object Mark = new();

    static readonly Dictionary<string, TorchSharp.torch.ScalarType> StorageTypes = new()
    {
        ["FloatStorage"] = TorchSharp.torch.ScalarType.Float32,
        ["DoubleStorage"] = TorchSharp.torch.ScalarType.Float64,
        ["HalfStorage"] = TorchSharp.torch.ScalarType.Float16,
        ["BFloat16Storage"] = TorchSharp.torch.ScalarType.BFloat16,
        ["LongStorage"] = TorchSharp.torch.ScalarType.Int64,
        ["IntStorage"] = TorchSharp.torch.ScalarType.Int32,
        ["ShortStorage"] = TorchSharp.torch.ScalarType.Int16,
        ["CharStorage"] = TorchSharp.torch.ScalarType.Int8,
        ["ByteStorage"] = TorchSharp.torch.ScalarType.Byte,
        ["BoolStorage"] = TorchSharp.torch.ScalarType.Bool,
    };

    readonly byte[] bytes;
    int position;
    readonly List<object?> stack = [];
    readonly Dictionary<long, object?> memo = [];
    readonly Dictionary<string, StorageRef> storages = [];

    Pickle(byte[] bytes) => this.bytes = bytes;

    /// <summary>The object <paramref name="bytes"/> pickles; tensors as <see cref="TensorRecord"/>s, views of
    /// one storage sharing its <see cref="StorageRef"/>.</summary>
    public static object? Read(byte[] bytes) => new Pickle(bytes).Run();

    object? Run()
    {
        while (true)
        {
            byte opcode = Byte();
            switch (opcode)
            {
                case 0x80: Byte(); break;                                 // PROTO
                case 0x95: Take(8); break;                                // FRAME: a length hint
                case (byte)'.': return Pop();                             // STOP
                case (byte)'(': stack.Add(Mark); break;                   // MARK
                case (byte)')': stack.Add(new PyTuple([])); break;        // EMPTY_TUPLE
                case (byte)'t': stack.Add(new PyTuple(PopToMark())); break;
                case 0x85: stack.Add(new PyTuple(PopMany(1))); break;     // TUPLE1..3
                case 0x86: stack.Add(new PyTuple(PopMany(2))); break;
                case 0x87: stack.Add(new PyTuple(PopMany(3))); break;
                case (byte)']': stack.Add(new List<object?>()); break;    // EMPTY_LIST
                case (byte)'l': stack.Add(PopToMark()); break;            // LIST
                case (byte)'a': Append(Pop()); break;                     // APPEND
                case (byte)'e': foreach (var item in PopToMark()) Append(item); break; // APPENDS
                case (byte)'}': stack.Add(new PyDict()); break;           // EMPTY_DICT
                case (byte)'d': stack.Add(Dict(PopToMark())); break;      // DICT
                case (byte)'s':                                           // SETITEM
                {
                    var value = Pop();
                    var key = Pop();
                    Top<PyDict>("SETITEM").Items.Add(new(key, value));
                    break;
                }
                case (byte)'u':                                           // SETITEMS
                {
                    var pairs = PopToMark();
                    Top<PyDict>("SETITEMS").Items.AddRange(Dict(pairs).Items);
                    break;
                }
                case (byte)'N': stack.Add(null); break;                   // NONE
                case 0x88: stack.Add(true); break;                        // NEWTRUE
                case 0x89: stack.Add(false); break;                       // NEWFALSE
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break; // BININT
                case (byte)'K': stack.Add((long)Byte()); break;           // BININT1
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break; // BININT2
                case 0x8a: stack.Add(Long(Byte())); break;                // LONG1
                case 0x8b: stack.Add(Long(Length(4))); break;             // LONG4
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break; // BINFLOAT
                case (byte)'X': stack.Add(Utf8(Length(4))); break;        // BINUNICODE
                case 0x8c: stack.Add(Utf8(Byte())); break;                // SHORT_BINUNICODE
                case 0x8d: stack.Add(Utf8(Length(8))); break;             // BINUNICODE8
                case (byte)'T': stack.Add(Latin1(Length(4))); break;      // BINSTRING
                case (byte)'U': stack.Add(Latin1(Byte())); break;         // SHORT_BINSTRING
                case (byte)'B': stack.Add(Take(Length(4)).ToArray()); break;  // BINBYTES
                case (byte)'C': stack.Add(Take(Byte()).ToArray()); break;     // SHORT_BINBYTES
                case 0x8e: stack.Add(Take(Length(8)).ToArray()); break;       // BINBYTES8
                case (byte)'q': memo[Byte()] = Peek(); break;             // BINPUT
                case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: memo[memo.Count] = Peek(); break;              // MEMOIZE
                case (byte)'h': stack.Add(Memo(Byte())); break;           // BINGET
                case (byte)'j': stack.Add(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break; // LONG_BINGET
                case (byte)'c': stack.Add(new PyGlobal(Line(), Line())); break; // GLOBAL
                case 0x93:                                                // STACK_GLOBAL
                {
                    var name = Pop() as string;
                    var module = Pop() as string;
                    if (module is null || name is null) throw new PickleException("a malformed STACK_GLOBAL");
                    stack.Add(new PyGlobal(module, name));
                    break;
                }
                case (byte)'R':                                           // REDUCE
                {
                    var args = Pop() as PyTuple ?? throw new PickleException("REDUCE without an argument tuple");
                    stack.Add(Call(Pop(), args.Items));
                    break;
                }
                case 0x81:                                                // NEWOBJ: cls.__new__(cls, *args)
                {
                    Pop();
                    throw new PickleException($"it holds a {Pop()} object");
                }
                case (byte)'b': Build(Pop()); break;                      // BUILD
                case (byte)'Q': stack.Add(PersistentLoad(Pop())); break;  // BINPERSID
                default:
                    throw new PickleException($"pickle opcode 0x{opcode:x2} at byte {position - 1}, which a state_dict does not use");
            }
        }
    }

    /// <summary>The callables a state_dict's pickle names; anything else is an object that is not part of one.</summary>
    object? Call(object? callable, IReadOnlyList<object?> args)
    {
        if (callable is not PyGlobal function) throw new PickleException("REDUCE of something that is not a class or function");
        switch (function.ToString())
        {
            case "collections.OrderedDict" when args.Count <= 1:
                return OrderedDict(args.Count == 0 ? null : args[0]);
            case "torch._utils._rebuild_tensor_v2" when args.Count >= 4:
            case "torch._utils._rebuild_tensor" when args.Count >= 4:
                return Tensor(args[0], args[1], args[2], args[3]);
            case "torch._utils._rebuild_parameter" when args.Count >= 1:
            case "torch._utils._rebuild_parameter_with_state" when args.Count >= 1:
                return args[0] as TensorRecord ?? throw new PickleException("a parameter without a tensor");
            case "torch._tensor._rebuild_from_type_v2" when args.Count >= 3 && args[1] is PyGlobal { Module: "torch" or "torch.nn.parameter", Name: "Tensor" or "Parameter" }:
                return Call(args[0], (args[2] as PyTuple ?? throw new PickleException("a tensor rebuilt without arguments")).Items);
            default:
                throw new PickleException($"it holds a {function} object");
        }
    }

    /// <summary>OrderedDict() or OrderedDict(items): items as a dict, or as a sequence of (key, value) pairs.</summary>
    static PyDict OrderedDict(object? items)
    {
        if (items is PyDict dict) return dict;
        var result = new PyDict();
        var pairs = items switch
        {
            null => [],
            PyTuple tuple => tuple.Items,
            List<object?> list => list,
            _ => throw new PickleException("an OrderedDict made from something that is not a sequence of pairs"),
        };
        foreach (var pair in pairs)
        {
            if (pair is not PyTuple { Items: [var key, var value] }) throw new PickleException("an OrderedDict made from something that is not a sequence of pairs");
            result.Items.Add(new(key, value));
        }
        return result;
    }

    /// <summary>BUILD sets an object's state; OrderedDict's is the state_dict's _metadata (module versions), not needed here.</summary>
    void Build(object? state)
    {
        if (Peek() is not PyDict) throw new PickleException("it sets the state of a Python object");
    }

    /// <summary>torch.save's persistent ids: ('storage', torch.FloatStorage, 'KEY', 'cpu', LENGTH).</summary>
    object PersistentLoad(object? id)
    {
        if (id is not PyTuple { Items: [string kind, PyGlobal type, string key, _, long length] } || kind != "storage")
            throw new PickleException("a persistent reference that is not a tensor storage");
        if (type.Module != "torch" || !StorageTypes.TryGetValue(type.Name, out var scalarType))
            throw new PickleException($"a tensor storage of type {type}, which this loader does not read (float, integer and bool tensors only)");
        if (length < 0) throw new PickleException($"storage {key} has a negative length");
        if (storages.TryGetValue(key, out var known))
        {
            if (known.Type != scalarType || known.Length != length) throw new PickleException($"storage {key} is described twice, differently");
            return known;
        }
        return storages[key] = new StorageRef(key, scalarType, length);
    }

    static TensorRecord Tensor(object? storage, object? offset, object? shape, object? stride) =>
        new(storage as StorageRef ?? throw new PickleException("a tensor without a storage"),
            offset as long? ?? throw new PickleException("a tensor without a storage offset"),
            Longs(shape, "size"), Longs(stride, "stride"));

    static long[] Longs(object? tuple, string what)
    {
        if (tuple is not PyTuple t || t.Items.Any(i => i is not long))
            throw new PickleException($"a tensor whose {what} is not a tuple of integers");
        return t.Items.Select(i => (long)i!).ToArray();
    }

    static PyDict Dict(List<object?> flat)
    {
        if (flat.Count % 2 != 0) throw new PickleException("a dict with a key but no value");
        var dict = new PyDict();
        for (int i = 0; i < flat.Count; i += 2) dict.Items.Add(new(flat[i], flat[i + 1]));
        return dict;
    }

    void Append(object? item)
    {
        if (Peek() is not List<object?> list) throw new PickleException("APPEND to something that is not a list");
        list.Add(item);
    }

    T Top<T>(string opcode) where T : class => Peek() as T ?? throw new PickleException($"{opcode} on a {Peek()?.GetType().Name ?? "None"}");

    object? Memo(long index) => memo.TryGetValue(index, out var value) ? value : throw new PickleException($"memo {index} is read before it is written");

    object? Peek() => stack.Count > 0 && stack[^1] != Mark ? stack[^1] : throw new PickleException("the pickle's stack is empty where a value is needed");

    object? Pop()
    {
        var value = Peek();
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    List<object?> PopMany(int count)
    {
        if (stack.Count < count || stack.Skip(stack.Count - count).Contains(Mark)) throw new PickleException("a tuple of values that are not there");
        var items = stack.GetRange(stack.Count - count, count);
        stack.RemoveRange(stack.Count - count, count);
        return items;
    }

    List<object?> PopToMark()
    {
        int mark = stack.LastIndexOf(Mark);
        if (mark < 0) throw new PickleException("a MARK is missing");
        var items = stack.GetRange(mark + 1, stack.Count - mark - 1);
        stack.RemoveRange(mark, stack.Count - mark);
        return items;
    }

    byte Byte() => Take(1)[0];

    ReadOnlySpan<byte> Take(long count)
    {
        if (count < 0 || count > bytes.Length - position) throw new PickleException("the pickle ends in the middle of a value (truncated?)");
        var span = bytes.AsSpan(position, (int)count);
        position += (int)count;
        return span;
    }

    long Length(int size) => size == 4 ? BinaryPrimitives.ReadUInt32LittleEndian(Take(4)) : BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    long Long(long size)
    {
        if (size > 8) throw new PickleException("an integer wider than 64 bits");
        var span = Take(size);
        long value = 0;
        for (int i = span.Length - 1; i >= 0; i--) value = (value << 8) | span[i];
        if (size is > 0 and < 8 && (span[^1] & 0x80) != 0) value -= 1L << (8 * (int)size); // two's complement
        return value;
    }

    string Utf8(long length) => Encoding.UTF8.GetString(Take(length));

    string Latin1(long length) => Encoding.Latin1.GetString(Take(length));

    string Line()
    {
        int end = Array.IndexOf(bytes, (byte)'\n', position);
        if (end < 0) throw new PickleException("the pickle ends in the middle of a name (truncated?)");
        var text = Encoding.UTF8.GetString(bytes, position, end - position);
        position = end + 1;
        return text;
    }
}
