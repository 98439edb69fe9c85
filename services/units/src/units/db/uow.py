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
