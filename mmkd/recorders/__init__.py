from .module_recorder import ModuleRecorder, RecordKey, parse_record_key

__all__ = ['ModuleRecorder', 'RecordKey', 'parse_record_key']
