"""Employer SQL: the named-resource queries over `portfolio_employer`."""

from app.models import Employer
from app.named.repository import NamedRepository


class EmployerRepository(NamedRepository[Employer]):
    model = Employer
    columns = (
        Employer.id,
        Employer.name,
        Employer.description,
        Employer.image_id,
        Employer.created_at,
        Employer.updated_at,
    )
