import factory

from apps.support.security.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = "Ada"
    last_name = "Lovelace"
    password = factory.django.Password("a-long-enough-password")
