from collections.abc import Sequence

from contracts.envelope import Event

from nyprod_kit.uow import UnitOfWork

from .repo import HistoryRepo, ProjectRepo, UnitRepo


class UnitsUnitOfWork(UnitOfWork):
    projects: ProjectRepo
    units: UnitRepo
    history: HistoryRepo

    def on_enter(self) -> None:
        self.projects = ProjectRepo(self.session)
        self.units = UnitRepo(self.session)
        self.history = HistoryRepo(self.session)

    async def on_batch(self, events: Sequence[Event]) -> None:
        # every saga event is about one unit (its key): their states in one query
        await self.units.read_states(unit_id for e in events if (unit_id := getattr(e, "unit_id", None)) is not None)
