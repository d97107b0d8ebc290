"""``ember.nn.Module``: the base class of every layer and model."""

import itertools
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from .._creation import empty_like
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled, no_grad
from .parameter import Parameter

__all__ = ["Module"]

#: The state-dict key (after the module's prefix) of what ``get_extra_state`` returns.
_EXTRA_STATE = "_extra_state"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` did not match: keys the model wanted but the state
    dict lacked, and keys the state dict had that the model does not use."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__
    if module in (None, "builtins"):
        return cls.__qualname__
    return module + "." + cls.__qualname__


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class for layers and models.

    Subclasses create parameters and sub-modules in ``__init__`` (assigning them as
    attributes registers them) and compute their output in ``forward``; calling
    the module runs ``forward`` with its hooks.

    Examples::

        >>> class Scale(ember.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.weight = ember.nn.Parameter(ember.ones(3))
        ...     def forward(self, x):
        ...         return x * self.weight
        >>> Scale()(ember.ones(3))
        tensor([1., 1., 1.], grad_fn=<MulBackward0>)
    """

    dump_patches = False
    _version = 1
    training = True

    def __init__(self):
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", OrderedDict())
        set_(self, "_forward_hooks", OrderedDict())
        set_(self, "_forward_hooks_with_kwargs", OrderedDict())
        set_(self, "_forward_hooks_always_called", OrderedDict())
        set_(self, "_forward_pre_hooks", OrderedDict())
        set_(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        set_(self, "_backward_hooks", OrderedDict())
        set_(self, "_state_dict_hooks", OrderedDict())
        set_(self, "_load_state_dict_pre_hooks", OrderedDict())

    def forward(self, *input):
        """Compute the module's output; every subclass overrides this."""
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required \"forward\" function")

    def __call__(self, *input, **kwargs):
        if self._forward_pre_hooks:
            input, kwargs = self._run_forward_pre_hooks(input, kwargs)
        call = None
        if self._backward_hooks and is_grad_enabled():
            call = _BackwardHookCall(self)
            input = call.wrap_inputs(input)
        try:
            output = self.forward(*input, **kwargs)
        except Exception:
            self._run_always_called_hooks(input, kwargs)
            raise
        for hook_id, hook in tuple(self._forward_hooks.items()):
            result = self._call_forward_hook(hook_id, hook, input, kwargs, output)
            if result is not None:
                output = result
        if call is not None:
            output = call.wrap_outputs(output)
        return output

    def _run_forward_pre_hooks(self, input, kwargs):
        """The positional and keyword inputs after the forward pre-hooks."""
        for hook_id, hook in tuple(self._forward_pre_hooks.items()):
            if hook_id in self._forward_pre_hooks_with_kwargs:
                result = hook(self, input, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, new_kwargs), "
                                           f"but got {result}.")
                    input, kwargs = result
            else:
                result = hook(self, input)
                if result is not None:
                    input = result if isinstance(result, tuple) else (result,)
        return input, kwargs

    def _call_forward_hook(self, hook_id, hook, input, kwargs, output):
        """Forward hook ``hook`` called as it was registered: with the keyword inputs
        where it takes them."""
        if hook_id in self._forward_hooks_with_kwargs:
            return hook(self, input, kwargs, output)
        return hook(self, input, output)

    def _run_always_called_hooks(self, input, kwargs):
        """After a forward that raised: the forward hooks registered with
        ``always_call=True``, with no output (None); an error of theirs is only warned
        about, the forward's propagates."""
        for hook_id, hook in tuple(self._forward_hooks.items()):
            if hook_id not in self._forward_hooks_always_called:
                continue
            try:
                self._call_forward_hook(hook_id, hook, input, kwargs, None)
            except Exception as ex:
                warnings.warn("forward hook with ``always_call=True`` raised an exception that was silenced as "
                              f"another error was raised in forward: {ex}")

    def _get_name(self):
        return type(self).__name__

    # ------------------------------------------------------------ registration
    def register_parameter(self, name, param):
        """Add ``param`` (a Parameter or None) as parameter ``name``.

        A None parameter is skipped by ``parameters()``, ``state_dict()`` and the
        conversions (``to``, ``cuda``, ...) — how a layer without bias says so.
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, name, "parameter")
        if param is not None:
            if not isinstance(param, Parameter):
                raise TypeError(
                    f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                    "(ember.nn.Parameter or None required)"
                )
            if param.grad_fn is not None:
                raise ValueError(
                    f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                    f"created explicitly. To express '{name}' as a function of another Tensor, "
                    "compute the value in the forward() method."
                )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add ``tensor`` (or None) as a buffer: state that is not trained, such as
        batch norm's running mean. A persistent buffer is part of ``state_dict``.

        Examples::

            >>> m = ember.nn.Module()
            >>> m.register_buffer('running_mean', ember.zeros(3))
            >>> list(m.state_dict())
            ['running_mean']
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' (ember Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) as attribute ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        _check_name(self, name, "module")
        self._modules[name] = module

    def register_module(self, name, module):
        """Alias of :meth:`add_module`."""
        self.add_module(name, module)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """Call ``hook(module, input, output)`` after every forward; a non-None result
        replaces the output. Returns a handle whose ``remove()`` takes the hook away.

        With ``with_kwargs`` the hook is ``hook(module, args, kwargs, output)``; with
        ``always_call`` it also runs (with output None) when forward raises;
        ``prepend`` runs it before the hooks already registered."""
        marks = [t for t, on in ((self._forward_hooks_with_kwargs, with_kwargs),
                                 (self._forward_hooks_always_called, always_call)) if on]
        return _Handle(self._forward_hooks, hook, prepend, marks)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, input)`` before every forward; a non-None result (a
        tuple, or one value) replaces the input. Returns a removable handle.

        With ``with_kwargs`` the hook is ``hook(module, args, kwargs)`` and returns
        None or a tuple ``(new_args, new_kwargs)``."""
        marks = [self._forward_pre_hooks_with_kwargs] if with_kwargs else []
        return _Handle(self._forward_pre_hooks, hook, prepend, marks)

    def _register_state_dict_hook(self, hook):
        """Call ``hook(module, state_dict, prefix, local_metadata)`` when
        :meth:`state_dict` has filled this module's entries; a non-None result
        replaces the state dict. Returns a removable handle."""
        return _Handle(self._state_dict_hooks, hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """Call ``hook(state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` (after ``module``, with ``with_module``) before
        this module's entries are loaded. Returns a removable handle."""
        if with_module:
            return _Handle(self._load_state_dict_pre_hooks, lambda *args: hook(self, *args))
        return _Handle(self._load_state_dict_pre_hooks, hook)

    def register_backward_hook(self, hook):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with
        respect to the module's tensor inputs are computed.

        ``grad_input`` and ``grad_output`` are tuples (one entry per tensor input /
        output, None where there is none). A non-None result, a tuple like
        ``grad_input``, replaces the gradients sent on to the inputs. Returns a
        removable handle.
        """
        return _Handle(self._backward_hooks, hook)

    register_full_backward_hook = register_backward_hook

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _forget(self, name, "_parameters")
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(ember.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if d.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _forget(self, name, "_modules")
            d["_modules"][name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(ember.nn.Module or None expected)")
            d["_modules"][name] = None
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(ember Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            table = d.get(store)
            if table is not None and name in table:
                return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        if name in d.get("_parameters", ()):
            del d["_parameters"][name]
        elif name in d.get("_buffers", ()):
            del d["_buffers"][name]
            d["_non_persistent_buffers_set"].discard(name)
        elif name in d.get("_modules", ()):
            del d["_modules"][name]
        else:
            object.__delattr__(self, name)

    # ------------------------------------------------------------ pickling / copying
    def __getstate__(self):
        return self.__dict__.copy()

    def __setstate__(self, state):
        self.__dict__.update(state)
        # modules saved before an attribute existed get it empty
        for name, make in (("_forward_pre_hooks", OrderedDict), ("_forward_hooks", OrderedDict),
                           ("_forward_pre_hooks_with_kwargs", OrderedDict),
                           ("_forward_hooks_with_kwargs", OrderedDict),
                           ("_forward_hooks_always_called", OrderedDict),
                           ("_backward_hooks", OrderedDict), ("_state_dict_hooks", OrderedDict),
                           ("_load_state_dict_pre_hooks", OrderedDict),
                           ("_non_persistent_buffers_set", set)):
            if name not in self.__dict__:
                self.__dict__[name] = make()

    # ------------------------------------------------------------ traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(name, module)`` for this module and every descendant; a module reached
        twice is listed once unless ``remove_duplicate=False``.

        Examples::

            >>> l = ember.nn.Module()
            >>> net = ember.nn.Sequential(l, l)
            >>> [name for name, _ in net.named_modules()]
            ['', '0']
        """
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        """This module and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """``(name, module)`` for the direct children, each once."""
        seen = set()
        for name, child in self._modules.items():
            if child is not None and child not in seen:
                seen.add(child)
                yield name, child

    def children(self):
        """The direct child modules."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, parameter)`` for every parameter (of descendants too when
        ``recurse``), a shared parameter once.

        Examples::

            >>> m = ember.nn.Module(); m.w = ember.nn.Parameter(ember.ones(1))
            >>> [name for name, _ in m.named_parameters()]
            ['w']
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter of this module (and its descendants), each once — what
        an optimizer is given."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, buffer)`` for every buffer."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Every buffer of this module (and its descendants)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target):
        """The descendant at the dotted path ``target`` (``''`` is this module).

        Raises AttributeError naming the first part that is missing or not a Module.
        """
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + " has no attribute `" + item + "`")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError("`" + item + "` is not an nn.Module")
        return mod

    def _owner_of(self, target):
        """``(module, name)`` for the dotted path ``target``, the attribute existing."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + " has no attribute `" + name + "`")
        return mod, name

    def get_parameter(self, target):
        """The parameter at the dotted path ``target`` (``'layer.0.weight'``)."""
        mod, name = self._owner_of(target)
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError("`" + name + "` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        """The buffer at the dotted path ``target``."""
        mod, name = self._owner_of(target)
        if name not in mod._buffers:
            raise AttributeError("`" + name + "` is not a buffer")
        return getattr(mod, name)

    # ------------------------------------------------------------ state dict
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Put this module's own parameters and persistent buffers (not its
        children's) into ``destination``; layers with extra state override it."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE] = self.get_extra_state()

    def get_extra_state(self):
        """What a module whose state is more than tensors keeps in its state dict (as
        ``_extra_state``): override it, with :meth:`set_extra_state`; a module that
        does not override it saves nothing there. The value must be picklable."""
        raise RuntimeError("Module.get_extra_state() runs only where a module overrides it "
                           "(its state_dict then holds '_extra_state')")

    def set_extra_state(self, state):
        """Restore what :meth:`get_extra_state` returned, from a loaded state dict;
        override both together."""
        raise RuntimeError("Module.set_extra_state() runs only where a module overrides it "
                           "(load_state_dict then gives it '_extra_state')")

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ``OrderedDict`` from dotted names (``'0.weight'``, ``'bn.running_mean'``)
        to every parameter and persistent buffer, detached unless ``keep_vars``.

        Its ``_metadata`` attribute maps each module's dotted name to
        ``{'version': ...}``, which ``load_state_dict`` hands to the layers.

        Examples::

            >>> m = ember.nn.Module(); m.weight = ember.nn.Parameter(ember.ones(2))
            >>> list(m.state_dict().keys())
            ['weight']
        """
        if args:   # the old positional form state_dict(destination, prefix, keep_vars)
            names = ("destination", "prefix", "keep_vars")
            if len(args) > 3:
                raise TypeError(f"state_dict() takes at most 3 positional arguments ({len(args)} given)")
            given = dict(zip(names, args))
            destination = given.get("destination", destination)
            prefix = given.get("prefix", prefix)
            keep_vars = given.get("keep_vars", keep_vars)
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = dict(version=self._version)
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, local_metadata)
            if result is not None:
                destination = result
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Copy this module's own entries from ``state_dict`` (keys ``prefix + name``)
        and record what is missing, unexpected or mismatched. Layers whose saved
        format changed between versions override it (``local_metadata['version']``)."""
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        persistent = ((k, v) for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set)
        local_state = {k: v for k, v in itertools.chain(self._parameters.items(), persistent) if v is not None}
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected ember.Tensor or '
                                  f"Tensor-like object from checkpoint but received {type(value)}")
                continue
            if param.dim() == 0 and value.dim() == 1:   # scalars saved as 1-element vectors
                value = value[0]
            if tuple(value.shape) != tuple(param.shape):
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {value.shape} from "
                                  f"checkpoint, the shape in current model is {param.shape}.")
                continue
            try:
                with no_grad():
                    if assign:
                        if isinstance(param, Parameter):
                            new = value if isinstance(value, Parameter) else Parameter(value, param.requires_grad)
                            self._parameters[name] = new
                        else:
                            self._buffers[name] = value
                    else:
                        param.copy_(value)
            except Exception as ex:  # the copy failed: say which entry, as torch does
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in the model '
                                  f"are {param.shape} and whose dimensions in the checkpoint are {value.shape}, "
                                  f"an exception occurred : {ex.args}.")
        extra = prefix + _EXTRA_STATE
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra in state_dict:
                self.set_extra_state(state_dict[extra])
            elif strict:
                missing_keys.append(extra)
        elif strict and extra in state_dict:
            unexpected_keys.append(extra)
        if strict:
            for key in state_dict.keys():
                if key.startswith(prefix) and key != extra:
                    first = key[len(prefix):].split(".", 1)[0]
                    if first not in self._modules and first not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict`` into this module and its
        descendants (the values are copied; the Parameters stay the same objects
        unless ``assign=True``).

        With ``strict`` (default) the keys must match ``state_dict()``'s exactly;
        otherwise a RuntimeError lists the missing and unexpected keys. Shape
        mismatches are errors either way. Returns ``(missing_keys, unexpected_keys)``
        as a named tuple.

        Examples::

            >>> a = ember.nn.Module(); a.w = ember.nn.Parameter(ember.ones(2))
            >>> b = ember.nn.Module(); b.w = ember.nn.Parameter(ember.zeros(2))
            >>> b.load_state_dict(a.state_dict())
            <All keys matched successfully>
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys, unexpected_keys, error_msgs = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module, prefix):
            local = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local["assign_to_params_buffers"] = True
            module._load_from_state_dict(state_dict, prefix, local, True, missing_keys, unexpected_keys,
                                         error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")

        load(self, "")
        if strict:
            if unexpected_keys:
                error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected_keys)))
            if missing_keys:
                error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing_keys)))
        if error_msgs:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(error_msgs)))
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # ------------------------------------------------------------ modes and gradients
    def train(self, mode=True):
        """Set training mode (affects dropout, batch norm) here and below; returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        """Evaluation mode, ``train(False)``; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording of every parameter on or off (freezing); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default) or to zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                g = p.grad
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g.zero_()

    def share_memory(self):
        """Move the parameters, their gradients and the buffers into shared memory
        (``Tensor.share_memory_``), so that worker processes given this module see
        and make the same updates (Hogwild training); returns self."""
        for t in [*self.parameters(), *self.buffers()]:
            t.share_memory_()
            if t.grad is not None:
                t.grad.share_memory_()
        return self

    def apply(self, fn):
        """Call ``fn`` on every descendant and then on self (e.g. to initialise
        weights); returns self.

        Examples::

            >>> seen = []
            >>> net = ember.nn.Sequential(ember.nn.Module(), ember.nn.Module())
            >>> _ = net.apply(lambda m: seen.append(type(m).__name__))
            >>> seen
            ['Module', 'Module', 'Sequential']
        """
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------ conversions
    def _apply(self, fn, recurse=True):
        if recurse:
            for child in self.children():
                child._apply(fn)
        for store in (self._parameters, self._buffers):
            for name, t in store.items():
                if t is None:
                    continue
                with no_grad():
                    new = fn(t)
                if isinstance(t, Parameter):
                    # the Parameter object stays (optimizers hold it); its data changes
                    t._data, t._be = new._data, new._be
                    if t.grad is not None:
                        with no_grad():
                            g = fn(t.grad)
                        t.grad._data, t.grad._be = g._data, g._be
                else:
                    store[name] = new
        return self

    def to(self, *args, **kwargs):
        """Move and/or cast parameters and buffers in place; returns self.

        ``to(device)``, ``to(dtype)``, ``to(tensor)`` (its device and dtype) or
        ``to(device, dtype)``; a dtype must be floating and applies to floating
        parameters and buffers only (integer buffers keep theirs).

        Examples::

            >>> m = ember.nn.Module(); m.w = ember.nn.Parameter(ember.ones(2))
            >>> m.to(ember.float64).w.dtype
            ember.float64
        """
        from .._ops.convert import _parse_to

        _check_to_args(args)
        device, dtype, non_blocking, _ = _parse_to(args, dict(kwargs))
        if device is not None:
            device = _checked_device(device)
        if dtype is not None:
            from .._dtype import to_dtype

            dtype = to_dtype(dtype)
            if not dtype.is_floating_point:
                raise TypeError("nn.Module.to only accepts floating point or complex dtypes, "
                                f"but got desired dtype={dtype}")

        def convert(t):
            out = t if device is None else t.to(device, non_blocking=non_blocking)
            if dtype is not None and out.is_floating_point():
                out = out.to(dtype)
            return out

        return self._apply(convert)

    def to_empty(self, *, device, recurse=True):
        """Give every parameter and buffer (of the children too, unless not
        ``recurse``) new, uninitialised memory on ``device``, of the same shape and
        dtype; returns self. For modules built without real values, to be filled
        after (a state dict, an init function)."""
        return self._apply(lambda t: empty_like(t, device=device), recurse=recurse)

    def cpu(self):
        """Move every parameter and buffer to the CPU; returns self."""
        return self._apply(lambda t: t.cpu())

    def cuda(self, device=None):
        """Move every parameter and buffer to a CUDA device; returns self."""
        return self._apply(lambda t: t.cuda(device))

    def type(self, dst_type):
        """Cast every parameter and buffer (integer ones too) to ``dst_type``; returns self."""
        return self._apply(lambda t: t.type(dst_type))

    def float(self):
        """Cast floating parameters and buffers to float32; returns self."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self):
        """Cast floating parameters and buffers to float64; returns self."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self):
        """Cast floating parameters and buffers to float16; returns self."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    # ------------------------------------------------------------ printing
    def extra_repr(self):
        """Extra text shown inside this module's ``repr`` (its hyper-parameters);
        layers override it. One line stays on the module's line."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(child), 2) for name, child in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"

    def __dir__(self):
        names = set(object.__dir__(self))
        names.update(self._parameters, self._buffers, self._modules)
        return sorted(n for n in names if not n[:1].isdigit())


def _check_name(module, name, kind):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\"" + (f", got: {name}" if kind == "module" else ""))
    if name == "":
        raise KeyError(f"{kind} name can't be empty string \"\"")
    stores = {"parameter": "_parameters", "buffer": "_buffers", "module": "_modules"}
    if hasattr(module, name) and name not in module.__dict__.get(stores[kind], {}):
        raise KeyError(f"attribute '{name}' already exists")


def _forget(module, name, keep):
    # ``keep`` is the store the name goes to: replacing an entry there keeps its position
    d = module.__dict__
    d.pop(name, None)
    for store in ("_parameters", "_buffers", "_modules"):
        if store != keep:
            d[store].pop(name, None)
    d["_non_persistent_buffers_set"].discard(name)


class _Handle:
    """Returned by ``register_*_hook``; ``remove()`` takes the hook away."""

    _next_id = 0

    def __init__(self, table, hook, prepend=False, marks=()):
        _Handle._next_id += 1
        self.id = _Handle._next_id
        self._table = table
        self._marks = marks  # tables marking the hook's options, keyed by its id
        table[self.id] = hook
        if prepend:
            table.move_to_end(self.id, last=False)
        for mark in marks:
            mark[self.id] = True

    def remove(self):
        """Unregister the hook."""
        self._table.pop(self.id, None)
        for mark in self._marks:
            mark.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# ---------------------------------------------------------------- backward hooks
class _InputGrads(Function):
    """Identity on the module's inputs; its backward sees the gradients with respect
    to them and runs the module's backward hooks."""

    @staticmethod
    def forward(ctx, call, *tensors):
        ctx.call = call
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + ctx.call.run_hooks(grads)


class _OutputGrads(Function):
    """Identity on the module's outputs; its backward records their gradients."""

    @staticmethod
    def forward(ctx, call, *tensors):
        ctx.call = call
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        call = ctx.call
        call.grad_output = grads
        if not call.inputs_tracked:
            call.run_hooks((None,) * call.n_inputs)
        return (None,) + grads


class _BackwardHookCall:
    """One forward call of a module with backward hooks."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0
        self.inputs_tracked = False

    def wrap_inputs(self, args):
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(pos)
        self.inputs_tracked = any(args[i].requires_grad for i in pos)
        if not self.inputs_tracked:
            return args
        wrapped = _InputGrads.apply(self, *(args[i] for i in pos))
        args = list(args)
        for i, t in zip(pos, wrapped):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, output):
        single = isinstance(output, Tensor)
        items = (output,) if single else output
        if not isinstance(items, tuple):
            return output
        pos = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not pos:
            return output
        wrapped = _OutputGrads.apply(self, *(items[i] for i in pos))
        items = list(items)
        for i, t in zip(pos, wrapped):
            items[i] = t
        return items[0] if single else tuple(items)

    def run_hooks(self, grad_input):
        grad_input = tuple(grad_input)
        grad_output = self.grad_output if self.grad_output is not None else ()
        for hook in tuple(self.module._backward_hooks.values()):
            result = hook(self.module, grad_input, grad_output)
            if result is None:
                continue
            result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
            if len(result) != len(grad_input):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                   f"{len(result)}, but expected {len(grad_input)}")
            grad_input = result
        return grad_input


def _check_to_args(args):
    """``Module.to``'s positional arguments as torch's three forms take them:
    ``(device, dtype, non_blocking)``, ``(dtype, non_blocking)``, ``(tensor, non_blocking)``."""
    from .._dtype import dtype as dtype_class

    if len(args) > 3:
        raise TypeError(f"Module.to() takes at most 3 positional arguments (device, dtype, non_blocking), "
                        f"but got {len(args)}: {args!r}")
    for i, a in enumerate(args):
        if a is None or i < 2 and isinstance(a, dtype_class):
            continue
        if i == 0 and (isinstance(a, Tensor) or _is_device(a)
                       or isinstance(a, (str, int)) and not isinstance(a, bool)):
            continue
        if 0 < i == len(args) - 1 and isinstance(a, bool):
            continue   # non_blocking
        raise TypeError(f"Module.to(): argument {i + 1} must be a device (a str such as 'cuda:0', an int "
                        f"or an ember.device), a dtype or a Tensor, but got {a!r} ({type(a).__name__})")


def _is_device(a):
    from .._device import device

    return isinstance(a, device)


def _checked_device(d):
    """``d`` as a device whose type is a loaded backend, or an error naming ``d``."""
    from .._device import as_device
    from ..backend import REGISTRY

    if isinstance(d, str) and not d.strip():
        raise RuntimeError(f"Module.to(): device string must not be empty, got {d!r}")
    dev = as_device(d)
    if dev.type not in REGISTRY.backends:
        known = ", ".join(sorted(REGISTRY.backends))
        raise RuntimeError(f"Module.to(): invalid device {d!r}: expected a device type among {known}, "
                           f"with an optional index (e.g. 'cpu' or 'cuda:0')")
    return dev
