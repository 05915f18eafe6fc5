from .module_recorder import ModuleRecorder, RecordKey, inputs_key, parse_record_key

__all__ = ['ModuleRecorder', 'RecordKey', 'inputs_key', 'parse_record_key']
