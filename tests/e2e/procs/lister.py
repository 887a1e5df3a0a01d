"""Lister process: ``lister.py BROKER STRATEGY DATA_SOURCE FORMAT_IDS_JSON``.

Prints every session ``get_all_sessions`` knows and the parameter list of each given format id.
"""

from __future__ import annotations

import json
import sys

from common import emit, start_library, started


def main() -> None:
    broker_list, strategy, data_source, ids = sys.argv[1:5]
    library = start_library(broker_list, strategy)
    try:
        sessions = started(library.get_session_manager_api().create_service())
        formats = started(library.get_data_format_manager_api().create_service())
        listed = sessions.get_all_sessions()
        assert listed.success, listed.error_message
        resolved = {}
        for data_format_id in json.loads(ids):
            result = formats.get_parameters_list(data_source, int(data_format_id))
            resolved[data_format_id] = (
                result.data.parameter_list if result.success else result.error_message
            )
        emit(
            sessions=[
                {
                    "session_key": info.session_key,
                    "data_source": info.data_source,
                    "identifier": info.identifier,
                    "historical": info.historical,
                    "details": info.details,
                }
                for info in listed.data
            ],
            formats=resolved,
        )
        sessions.stop()
        formats.stop()
    finally:
        library.stop()


if __name__ == "__main__":
    main()
